package conformance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// Categories of UNSUPPORTED tests. Besides these fixed ones, a test may be
// "out of scope: OP" (an operator or form deliberately not implemented, see
// OutOfScope) or "not implemented: OP" (one that is merely missing).
const (
	CatSequence = "sequence type"
	CatOptional = "optional type"
	CatString   = "string type"
	CatTraining = "training mode"
	CatRandom   = "random"
)

// OutOfScope lists the operators the engine deliberately does not
// implement, with the reason; their tests are "out of scope: OP". An
// operator missing from both SupportedOps and this list is "not
// implemented". Keys of the form "Op/feature" name an unsupported form of
// an implemented operator, matched against the start of the engine's
// UnsupportedError ("Op/What").
var OutOfScope = map[string]string{
	// Text features over strings and n-grams, outside the sensor and audio
	// models kagen serves.
	"TfIdfVectorizer": "text n-gram features",
	// Scan's opset 8 form (a batch axis and sequence_lens); opset 9 on is supported.
	"Scan/opset 8": "opset 8 form",
}

var sequenceOps = map[string]bool{
	"SequenceAt": true, "SequenceConstruct": true, "SequenceEmpty": true, "SequenceErase": true,
	"SequenceInsert": true, "SequenceLength": true, "SequenceMap": true, "SplitToSequence": true,
	"ConcatFromSequence": true,
}

var optionalOps = map[string]bool{"Optional": true, "OptionalGetElement": true, "OptionalHasElement": true}

var stringOps = map[string]bool{"StringNormalizer": true, "StringConcat": true, "StringSplit": true, "RegexFullMatch": true}

var randomOps = map[string]bool{
	"Bernoulli": true, "Multinomial": true, "RandomNormal": true, "RandomNormalLike": true,
	"RandomUniform": true, "RandomUniformLike": true,
}

const trainingDomain = "ai.onnx.preview.training"

// Categorize returns why the engine cannot run a model, as far as the model
// itself tells (its value types and operators, subgraphs included): a
// category and a reason, or "" when nothing rules the model out. Types
// outrank training and randomness, which outrank missing operators.
func Categorize(pm *onnx.Model) (category, reason string) {
	supported := map[string]bool{}
	for _, op := range engine.SupportedOps() {
		supported[op] = true
	}
	best, bestRank := "", 99
	var why string
	note := func(rank int, cat, reason string) {
		if rank < bestRank {
			best, bestRank, why = cat, rank, reason
		}
	}
	var walk func(g *onnx.Graph)
	walk = func(g *onnx.Graph) {
		for _, list := range [][]*onnx.ValueInfo{g.Inputs, g.Outputs} {
			for _, vi := range list {
				switch {
				case vi.Kind == onnx.TypeSequence:
					note(0, CatSequence, fmt.Sprintf("value %q is a sequence", vi.Name))
				case vi.Kind == onnx.TypeOptional:
					note(1, CatOptional, fmt.Sprintf("value %q is an optional", vi.Name))
				case vi.Kind == onnx.TypeMap:
					note(3, "out of scope: map type", fmt.Sprintf("value %q is a map", vi.Name))
				case vi.IsTensor && vi.ElemType == int32(engine.String):
					note(2, CatString, fmt.Sprintf("value %q is a STRING tensor", vi.Name))
				}
			}
		}
		for _, t := range g.Initializers {
			if t.DataType == int32(engine.String) {
				note(2, CatString, fmt.Sprintf("initializer %q is a STRING tensor", t.Name))
			}
		}
		for _, n := range g.Nodes {
			op := n.OpType
			where := fmt.Sprintf("node %q: ", n.Name)
			switch {
			case n.Domain == trainingDomain:
				note(4, CatTraining, where+trainingDomain+"."+op)
			case n.Domain != "" && n.Domain != "ai.onnx":
				note(6, "out of scope: "+n.Domain+"."+op, where+"operator domain "+n.Domain)
			case sequenceOps[op]:
				note(0, CatSequence, where+op)
			case optionalOps[op]:
				note(1, CatOptional, where+op)
			case stringOps[op]:
				note(2, CatString, where+op)
			case randomOps[op]:
				note(5, CatRandom, where+op)
			case !supported[op]:
				if r, ok := OutOfScope[op]; ok {
					note(6, "out of scope: "+op, where+op+" ("+r+")")
				} else {
					note(7, "not implemented: "+op, where+"unsupported "+op)
				}
			}
			for _, a := range n.Attrs {
				if a.T != nil && a.T.DataType == int32(engine.String) || (op == "Cast" && a.Name == "to" && a.I == int64(engine.String)) {
					note(2, CatString, where+op+" with a STRING tensor")
				}
				if a.G != nil {
					walk(a.G)
				}
				for _, sg := range a.Graphs {
					walk(sg)
				}
			}
		}
	}
	walk(pm.Graph)
	return best, why
}

// ErrorCategory returns the category of an error the engine gave for a
// model it does not support.
func ErrorCategory(err error) string {
	var u *engine.UnsupportedError
	if !errors.As(err, &u) {
		return "not implemented"
	}
	w := u.What
	switch {
	case strings.Contains(w, "random"):
		return CatRandom
	case strings.Contains(w, "training_mode") || strings.Contains(w, "is_test"):
		return CatTraining
	case strings.Contains(w, "(sequence)"):
		return CatSequence
	case strings.Contains(w, "(optional)"):
		return CatOptional
	case strings.Contains(w, "STRING"):
		return CatString
	case strings.Contains(w, "UINT64"):
		// Integers are held as int64: UINT64 values above 2^63-1 do not fit.
		return "out of scope: UINT64 type"
	}
	full := u.Op + "/" + w
	for k := range OutOfScope {
		if strings.Contains(k, "/") && strings.HasPrefix(full, k) {
			return "out of scope: " + k
		}
	}
	if r, ok := OutOfScope[u.Op]; ok && r != "" {
		return "out of scope: " + u.Op
	}
	feature := w
	if i := strings.IndexAny(w, " (:="); i > 0 {
		feature = w[:i]
	}
	if feature == "" {
		return "not implemented: " + u.Op
	}
	return "not implemented: " + u.Op + "/" + feature
}
