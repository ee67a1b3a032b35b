package main

// Engine is one inference engine under test, loaded with one model and
// ready to run it on a fixed input.
type Engine interface {
	// Run runs the model once on the input given to the constructor.
	Run() error
	// Output returns the first output of the last Run, flattened.
	Output() []float32
	Close()
}

// inputSpec is the (single, float32) input of a model.
type inputSpec struct {
	Name  string
	Shape []int
}

// engineFactory builds an engine for a model, given its bytes, its input and
// the thread count. Each engine copies data (the input) at every Run as its
// own API requires, so that copy is part of what is timed.
type engineFactory func(model []byte, in inputSpec, data []float32, threads int) (Engine, error)
