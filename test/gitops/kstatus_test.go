package gitops

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// TestKStatusOfLiveExposures computes kstatus (what Flux, kpt and
// cli-utils' status poller use) on the Exposures of every live state:
// InProgress while reconciling or behind the generation, Current when
// Ready, Failed when Stalled, with the operator's own message.
func TestKStatusOfLiveExposures(t *testing.T) {
	for _, st := range liveStates(t) {
		t.Run(strings.TrimSuffix(st.File, ".yaml"), func(t *testing.T) {
			res, err := status.Compute(st.Object.DeepCopy())
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if st.KStatus == "" {
				t.Logf("%s: kstatus says %s (%q); not asserted: %s", st.Description, res.Status, res.Message, st.KStatusNote)
				return
			}
			if res.Status != st.KStatus {
				t.Errorf("%s:\n kstatus = %s (%q), want %s", st.Description, res.Status, res.Message, st.KStatus)
			}
			switch st.KStatus {
			case status.FailedStatus, status.CurrentStatus:
				// Failed carries the Stalled message, as Argo CD's Degraded does.
				if st.KStatus == status.FailedStatus && res.Message != st.Health.Message {
					t.Errorf("kstatus message %q, want the Stalled message %q", res.Message, st.Health.Message)
				}
			case status.InProgressStatus:
				if st.Object.GetGeneration() == observedGeneration(st.Object) && res.Message != st.Health.Message {
					// Reconciling's message names the part waited for,
					// like Ready's, which Argo CD shows.
					t.Errorf("kstatus message %q, want %q", res.Message, st.Health.Message)
				}
			}

			// The same object once its spec has changed again.
			bumped := st.Object.DeepCopy()
			bumped.SetGeneration(st.Object.GetGeneration() + 1)
			if res, err := status.Compute(bumped); err != nil || res.Status != status.InProgressStatus {
				t.Errorf("with metadata.generation bumped: kstatus = %v (%v), want InProgress", res, err)
			}
		})
	}
}

func observedGeneration(u *unstructured.Unstructured) int64 {
	g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return g
}
