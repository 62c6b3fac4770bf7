package apply

import (
	"encoding/json"
	"reflect"
)

// Contains reports whether live holds every field of desired with the same
// value. It is how a restarted manager, with no memory of its last applies,
// tells that an apply would change nothing: the API server adds defaults and
// other controllers add fields, so live is a superset of what we asked for
// exactly when nothing of ours drifted.
//
// Lists must have the same length and contain each desired element at the
// same index: a list the server or someone else grew is treated as drift,
// which at worst costs one apply that changes nothing.
func Contains(live, desired any) bool {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return len(d) == 0 && live == nil
		}
		for k, dv := range d {
			lv, ok := l[k]
			if !ok {
				if isEmpty(dv) {
					continue
				}
				return false
			}
			if !Contains(lv, dv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return len(d) == 0 && live == nil
		}
		if len(l) != len(d) {
			return false
		}
		for i := range d {
			if !Contains(l[i], d[i]) {
				return false
			}
		}
		return true
	default:
		if dn, ok := number(desired); ok {
			ln, ok := number(live)
			return ok && dn == ln
		}
		return reflect.DeepEqual(live, desired)
	}
}

// isEmpty is true for values the API server drops when stored, so that
// asking for them and not finding them is no drift.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// number normalises the numeric types that unstructured content can carry
// (int64 from the converters, float64 and json.Number from decoders).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
