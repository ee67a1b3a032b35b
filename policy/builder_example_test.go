package policy_test

import (
	"flag"
	"fmt"

	"github.com/kagen-ai/kagen/policy"
)

// A command line's controller flags, from the registry, built into the
// parameters of one controller.
func ExampleBuilder() {
	var b policy.Builder
	fs := flag.NewFlagSet("kagen policy new", flag.ContinueOnError)
	b.Flags(fs, "a fraction of level 0's energy")
	if err := fs.Parse([]string{"--n", "4", "--floor", "1"}); err != nil {
		panic(err)
	}
	p, err := b.Build(policy.State, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(p)
	_, err = b.Build(policy.Naive, nil)
	fmt.Println(err)
	// Output:
	// state n=4 votes=2 factor=1 + floor 1pp hard_frac=0
	// --n applies to controller state, not naive
}
