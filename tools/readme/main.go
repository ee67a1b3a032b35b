// Command readme re-runs the example commands of README.md and rewrites
// their output in place, so that the examples cannot drift from what
// kagen prints. tools/readme.sh builds kagen and runs it; see there.
//
// An example is a fenced block (```) whose lines starting with "$ kagen"
// are commands: each is run with sh in a work folder, and the lines after
// it up to the next "$ " line or the end of the block are replaced by
// its standard output. Blocks without such a command (builds, copies, a
// board's prompt) are left alone. The commands run in order, in one work
// folder holding links to the repository's models/, demo/ and a heldout/
// folder of the held-out subjects' smartphone recordings (s17-s19,
// *_sp.csv) from the study's data, so that later examples read what
// earlier ones wrote.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

func main() {
	readme := flag.String("readme", "README.md", "the README to rewrite")
	dataRoot := flag.String("data-root", "../shared/data", "the study's data (har-spsw/DATA), for heldout/")
	kagen := flag.String("kagen", "", "the kagen binary (tools/readme.sh builds it)")
	skip := flag.String("skip", "", "leave the examples whose command matches this regular expression as they are (slow ones)")
	check := flag.Bool("check", false, "do not rewrite: list the examples whose output changed, exit 1 if any")
	flag.Parse()
	if err := run(*readme, *dataRoot, *kagen, *skip, *check); err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
}

func run(readme, dataRoot, kagen, skip string, check bool) error {
	var skipRE *regexp.Regexp
	if skip != "" {
		var err error
		if skipRE, err = regexp.Compile(skip); err != nil {
			return fmt.Errorf("--skip: %w", err)
		}
	}
	if kagen == "" {
		return fmt.Errorf("--kagen: give the kagen binary (tools/readme.sh builds it)")
	}
	src, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	repo, err := filepath.Abs(filepath.Dir(readme))
	if err != nil {
		return err
	}
	work, err := setup(repo, dataRoot, kagen)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	lines := strings.Split(string(src), "\n")
	var out []string
	changed := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		block := lines[i+1 : min(end, len(lines))]
		if !hasCommand(block, indent) {
			out = append(out, block...)
			i = end - 1
			continue
		}
		for j := 0; j < len(block); j++ {
			line := block[j]
			cmd, ok := strings.CutPrefix(line, indent+"$ ")
			if !ok {
				continue // an old output line: replaced below
			}
			out = append(out, line)
			k := j + 1
			for k < len(block) && !strings.HasPrefix(block[k], indent+"$ ") {
				k++
			}
			old := block[j+1 : k]
			if !strings.HasPrefix(cmd, "kagen ") || skipRE != nil && skipRE.MatchString(cmd) {
				out = append(out, old...)
				j = k - 1
				continue
			}
			t0 := time.Now()
			got, err := runExample(work, cmd)
			if err != nil {
				return fmt.Errorf("README.md line %d: %s: %w", i+2+j, cmd, err)
			}
			fmt.Fprintf(os.Stderr, "readme: %s (%.1f s)\n", cmd, time.Since(t0).Seconds())
			for _, g := range got {
				out = append(out, indent+g)
			}
			if strings.Join(old, "\n") != strings.Join(prefixed(got, indent), "\n") {
				changed++
				if check {
					fmt.Printf("README.md line %d: the output of %q changed\n", i+2+j, cmd)
				}
			}
			j = k - 1
		}
		i = end - 1
	}
	if check {
		if changed > 0 {
			return fmt.Errorf("%d examples changed; run tools/readme.sh", changed)
		}
		return nil
	}
	fmt.Fprintf(os.Stderr, "readme: %d examples' output changed\n", changed)
	return atomicfile.Write(readme, []byte(strings.Join(out, "\n")))
}

// hasCommand reports whether a block holds a "$ kagen" command.
func hasCommand(block []string, indent string) bool {
	for _, l := range block {
		if strings.HasPrefix(l, indent+"$ kagen ") {
			return true
		}
	}
	return false
}

func prefixed(lines []string, indent string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = indent + l
	}
	return out
}

// setup makes the work folder: kagen on the PATH, the repository's models
// and demo, and heldout/ with the held-out subjects' phone recordings.
func setup(repo, dataRoot, kagen string) (string, error) {
	work, err := os.MkdirTemp("", "kagen-readme-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(work, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(kagen)
	if err != nil {
		return "", err
	}
	if err := os.Symlink(abs, filepath.Join(bin, "kagen")); err != nil {
		return "", err
	}
	for _, d := range []string{"models", "demo"} {
		if err := os.Symlink(filepath.Join(repo, d), filepath.Join(work, d)); err != nil {
			return "", err
		}
	}
	held := filepath.Join(work, "heldout")
	if err := os.Mkdir(held, 0o755); err != nil {
		return "", err
	}
	var n int
	for _, s := range []string{"s17", "s18", "s19"} {
		files, _ := filepath.Glob(filepath.Join(dataRoot, "har-spsw", "DATA", s, "*_sp.csv"))
		for _, f := range files {
			a, _ := filepath.Abs(f)
			if err := os.Symlink(a, filepath.Join(held, filepath.Base(f))); err != nil {
				return "", err
			}
			n++
		}
	}
	if n == 0 {
		os.RemoveAll(work)
		return "", fmt.Errorf("--data-root %s: no har-spsw/DATA/s1[789]/*_sp.csv: the README's examples read the held-out subjects' recordings", dataRoot)
	}
	return work, nil
}

// runExample runs cmd with sh in work with kagen on the PATH and returns
// its standard output's lines; its standard error goes to ours.
func runExample(work, cmd string) ([]string, error) {
	c := exec.Command("sh", "-c", cmd)
	c.Dir = work
	c.Env = append(os.Environ(), "PATH="+filepath.Join(work, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout bytes.Buffer
	c.Stdout, c.Stderr = &stdout, os.Stderr
	if err := c.Run(); err != nil {
		return nil, err
	}
	text := strings.TrimRight(stdout.String(), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}
