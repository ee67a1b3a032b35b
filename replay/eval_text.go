package replay

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the accuracy, per-class recall and the confusion matrix
// for a terminal, the model called name.
func (r *EvalResult) WriteText(w io.Writer, name string) {
	if r.Read != nil {
		fmt.Fprintln(w, r.Read)
		if m := r.Read.Mixed(); m != "" {
			fmt.Fprintln(w, "warning:", m)
		}
	}
	truth := "true"
	if r.QoS == QoSAgreement {
		truth = "exact"
		fmt.Fprintf(w, "%s: agreement with the exact model %.2f%% (%d of %d windows; the exact model's predictions are the reference, labels unused); mean relative output error %.3g\n",
			name, 100*r.Accuracy, r.Correct, r.N, r.RelErr)
	} else {
		fmt.Fprintf(w, "%s: accuracy %.2f%% (%d of %d windows)\n", name, 100*r.Accuracy, r.Correct, r.N)
	}
	if len(r.Skipped) > 0 {
		labels := make([]string, 0, len(r.Skipped))
		for l := range r.Skipped {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for i, l := range labels {
			name := strconv.Quote(l)
			if l == "" {
				name = "no label"
			}
			labels[i] = fmt.Sprintf("%s (%d)", name, r.Skipped[l])
		}
		fmt.Fprintf(w, "skipped windows with labels outside the classes: %s\n", strings.Join(labels, ", "))
	}
	if r.NonFinite > 0 {
		fmt.Fprintf(w, "warning: %d windows gave NaN or infinite outputs and count as wrong; the first: %s\n", r.NonFinite, r.FirstNonFinite)
	}
	if r.Gaps > 0 {
		fmt.Fprintf(w, "%d gaps in the timestamps split the traces (no window spans one)\n", r.Gaps)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s \\ predicted\t%s\trecall\tn\t\n", truth, strings.Join(shortNames(r.Classes), "\t"))
	for i, c := range r.Classes {
		row := make([]string, len(r.Confusion[i]))
		for j, v := range r.Confusion[i] {
			row[j] = fmt.Sprint(v)
		}
		pc := r.PerClass[c]
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%d\t\n", c, strings.Join(row, "\t"), 100*pc.Recall, pc.N)
	}
	tw.Flush()
}

// shortNames abbreviates long class names for the confusion matrix header.
func shortNames(classes []string) []string {
	out := make([]string, len(classes))
	for i, c := range classes {
		if len(c) > 6 {
			c = c[:6]
		}
		out[i] = c
	}
	return out
}
