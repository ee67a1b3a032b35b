package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// opTypes lists the operator types a model uses, each once, in the order
// they first appear in the file (depth first: the nodes of an If's or a
// Loop's bodies come at the position of the node that holds them). Ops of
// a domain other than ai.onnx are written "domain:OpType". It reads the
// protobuf directly, independently of the engine's decoder, so that ops in
// subgraphs are seen whether or not the engine decodes them.
func opTypes(model []byte) ([]string, error) {
	var ops []string
	seen := map[string]bool{}
	err := eachField(model, func(num int, typ int, b []byte) error {
		if num == 7 && typ == wireBytes { // ModelProto.graph
			return graphOps(b, seen, &ops, 0)
		}
		return nil
	})
	return ops, err
}

func graphOps(g []byte, seen map[string]bool, ops *[]string, depth int) error {
	if depth > 64 {
		return fmt.Errorf("subgraphs nested deeper than 64")
	}
	return eachField(g, func(num int, typ int, b []byte) error {
		if num != 1 || typ != wireBytes { // GraphProto.node
			return nil
		}
		var opType, domain string
		var subs [][]byte
		err := eachField(b, func(num int, typ int, b []byte) error {
			if typ != wireBytes {
				return nil
			}
			switch num {
			case 4: // NodeProto.op_type
				opType = string(b)
			case 7: // NodeProto.domain
				domain = string(b)
			case 5: // NodeProto.attribute
				return eachField(b, func(num int, typ int, b []byte) error {
					if typ == wireBytes && (num == 6 || num == 11) { // AttributeProto.g, .graphs
						subs = append(subs, b)
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		name := opType
		if domain != "" && domain != "ai.onnx" {
			name = domain + ":" + opType
		}
		if !seen[name] {
			seen[name] = true
			*ops = append(*ops, name)
		}
		for _, s := range subs {
			if err := graphOps(s, seen, ops, depth+1); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachField calls fn for every field of a protobuf message, with the
// payload of length-delimited fields (nil for the others). A hand-written
// reader (wire types 0, 1, 2, 5) keeps the bench module's dependencies as
// they are.
func eachField(msg []byte, fn func(num int, wire int, b []byte) error) error {
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return errors.New("malformed protobuf tag")
		}
		msg = msg[n:]
		num, wire := int(tag>>3), int(tag&7)
		var payload []byte
		switch wire {
		case wireVarint:
			if _, n = binary.Uvarint(msg); n <= 0 {
				return errors.New("malformed protobuf varint")
			}
		case wireFixed64:
			n = 8
		case wireBytes:
			l, k := binary.Uvarint(msg)
			if k <= 0 || l > uint64(len(msg)-k) {
				return errors.New("malformed protobuf length")
			}
			payload, n = msg[k:k+int(l)], k+int(l)
		case wireFixed32:
			n = 4
		default:
			return fmt.Errorf("unsupported protobuf wire type %d", wire)
		}
		if n > len(msg) {
			return errors.New("truncated protobuf")
		}
		msg = msg[n:]
		if err := fn(num, wire, payload); err != nil {
			return err
		}
	}
	return nil
}

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// missingOps are the ops of a model the engine does not implement, in
// file order.
func missingOps(ops, supported []string) []string {
	have := map[string]bool{}
	for _, s := range supported {
		have[s] = true
	}
	var miss []string
	for _, o := range ops {
		if !have[o] {
			miss = append(miss, o)
		}
	}
	return miss
}
