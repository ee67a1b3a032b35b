package engine

// recurrentOps are the recurrent operators (LSTM, GRU, RNN).
var recurrentOps = map[string]*opDef{}
