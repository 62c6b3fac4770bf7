package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// auditPolicy records every write request (its metadata only) once the
// response is sent, and nothing else: enough to count who wrote what, when,
// at little cost to the API server.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`

// Write is one write request the API server answered, from its audit log.
type Write struct {
	Time      time.Time
	UserAgent string
	Verb      string
	Resource  string
	Namespace string
	Name      string
	Code      int
}

func (w Write) String() string {
	return fmt.Sprintf("%s %s %s/%s (%d)", w.Verb, w.Resource, w.Namespace, w.Name, w.Code)
}

// Writes reads the write requests of the cluster's audit log whose user
// agent starts with agent ("" for all).
func (c *Cluster) Writes(agent string) ([]Write, error) {
	if c.auditLog == "" {
		return nil, fmt.Errorf("the cluster was started without an audit log")
	}
	f, err := os.Open(c.auditLog)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Write
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Verb           string    `json:"verb"`
			UserAgent      string    `json:"userAgent"`
			StageTimestamp time.Time `json:"stageTimestamp"`
			ObjectRef      *struct {
				Resource, Namespace, Name, Subresource string
			} `json:"objectRef"`
			ResponseStatus *struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue // a line cut by a concurrent write
		}
		if !strings.HasPrefix(ev.UserAgent, agent) || ev.ObjectRef == nil {
			continue
		}
		w := Write{Time: ev.StageTimestamp, UserAgent: ev.UserAgent, Verb: ev.Verb,
			Resource: ev.ObjectRef.Resource, Namespace: ev.ObjectRef.Namespace, Name: ev.ObjectRef.Name}
		if ev.ObjectRef.Subresource != "" {
			w.Resource += "/" + ev.ObjectRef.Subresource
		}
		if ev.ResponseStatus != nil {
			w.Code = ev.ResponseStatus.Code
		}
		out = append(out, w)
	}
	return out, sc.Err()
}
