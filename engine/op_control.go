package engine

// controlOps are the control-flow operators, whose attributes hold subgraphs.
var controlOps = map[string]*opDef{}
