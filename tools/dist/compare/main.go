// Command compare checks that two profiles of one model (kagen profile, or
// the OUT.profile.json of kagen tune) agree on everything that does not
// depend on timing: the pairs profiled, the exact outputs and accuracy,
// and the QoS figures of every pair both kept. Latencies, and so which
// pairs are pruned, differ from run to run. tools/dist/cluster_test.sh
// uses it to compare a distributed run with a local one.
//
//	go run ./tools/dist/compare A.profile.json B.profile.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	"github.com/kagen-ai/kagen/profile"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: compare A.profile.json B.profile.json")
		os.Exit(2)
	}
	a, err := read(os.Args[1])
	if err == nil {
		var b *profile.Profile
		if b, err = read(os.Args[2]); err == nil {
			err = compare(a, b)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func read(path string) (*profile.Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p profile.Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

func compare(a, b *profile.Profile) error {
	if a.ModelSHA256 != b.ModelSHA256 || a.Windows != b.Windows || a.Classes != b.Classes {
		return fmt.Errorf("different models or windows: %s/%d/%d vs %s/%d/%d", a.ModelSHA256, a.Windows, a.Classes, b.ModelSHA256, b.Windows, b.Classes)
	}
	if a.ExactAccuracy != b.ExactAccuracy || !reflect.DeepEqual(a.ExactOutputs, b.ExactOutputs) || !reflect.DeepEqual(a.Labels, b.Labels) {
		return fmt.Errorf("exact outputs differ (accuracy %v vs %v)", a.ExactAccuracy, b.ExactAccuracy)
	}
	if len(a.Pairs) != len(b.Pairs) {
		return fmt.Errorf("%d pairs vs %d", len(a.Pairs), len(b.Pairs))
	}
	both := 0
	for i := range a.Pairs {
		p, q := a.Pairs[i], b.Pairs[i]
		if p.Step != q.Step || p.Node != q.Node || p.Knob != q.Knob {
			return fmt.Errorf("pair %d is %s %s vs %s %s", i, p.Node, p.Knob, q.Node, q.Knob)
		}
		if p.Pruned || q.Pruned {
			continue
		}
		both++
		if p.Accuracy != q.Accuracy || p.LossPP != q.LossPP || !reflect.DeepEqual(p.Delta, q.Delta) {
			return fmt.Errorf("pair %s %s: accuracy %v vs %v", p.Node, p.Knob, p.Accuracy, q.Accuracy)
		}
	}
	fmt.Printf("profiles agree: %d pairs, %d kept by both with identical QoS figures, exact accuracy %.4f\n", len(a.Pairs), both, a.ExactAccuracy)
	return nil
}
