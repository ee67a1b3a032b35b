//go:build cgo

// Command libkagen is kagen's on-device library for C, C++, JNI and
// Python (ctypes) callers: package ondevice behind the C ABI declared in
// kagen.h, built with
//
//	go build -buildmode=c-shared -o libkagen.so ./libkagen
//	go build -buildmode=c-archive -o libkagen.a ./libkagen
//
// Every exported function recovers at the boundary, so that no Go panic
// crosses into C; handles are runtime/cgo handles, checked on every call;
// inputs are read from the caller's buffers during the call only.
package main

/*
#cgo CFLAGS: -DKAGEN_NO_PROTOTYPES
#include <stdlib.h>
#include <string.h>
#include "kagen.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/ondevice"
	"github.com/kagen-ai/kagen/replay"
)

func main() {}

// entry is what a C handle refers to.
type entry struct {
	mu      sync.Mutex
	h       *ondevice.Handle
	lastErr string
	// queue holds the results of pushes not yet read by
	// kagen_next_result; their scores are copied into scores.
	queue  []queued
	pos    int
	scores []float32
}

type queued struct {
	r      ondevice.Result
	off, n int
}

// Limits checked before a C buffer is looked at.
const (
	maxModel  = ondevice.MaxModelBytes
	maxPolicy = 16 << 20
	maxPush   = ondevice.MaxPush
)

// internal turns a recovered panic into KAGEN_EINTERNAL with a message.
func internal(p any, e *entry, rc *C.int) {
	*rc = C.KAGEN_EINTERNAL
	if e != nil {
		e.lastErr = fmt.Sprintf("kagen: internal error (please report it): %v", p)
	}
}

// with runs fn on the open handle h, holding its lock, recovering any
// panic, and keeping fn's error as the handle's last.
func with(h C.kagen_handle, fn func(e *entry) (C.int, error)) (rc C.int) {
	var e *entry
	defer func() {
		if p := recover(); p != nil {
			internal(p, e, &rc)
		}
	}()
	e = lookup(h)
	if e == nil {
		return C.KAGEN_EHANDLE
	}
	if !e.mu.TryLock() {
		return C.KAGEN_EBUSY
	}
	defer e.mu.Unlock()
	if e.h == nil {
		return C.KAGEN_EHANDLE
	}
	rc, err := fn(e)
	if err != nil {
		e.lastErr = err.Error()
	}
	return rc
}

// lookup returns the entry of h, nil if h is not an open handle.
func lookup(h C.kagen_handle) (e *entry) {
	if h == 0 {
		return nil
	}
	defer func() {
		if recover() != nil { // cgo.Handle.Value panics on a handle not open
			e = nil
		}
	}()
	e, _ = cgo.Handle(uintptr(h)).Value().(*entry)
	return e
}

// putString copies s into the C buffer buf of len bytes, NUL-terminated
// and truncated on a UTF-8 boundary.
func putString(buf *C.char, n C.size_t, s string) {
	if buf == nil || n == 0 {
		return
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	k := min(len(s), len(dst)-1)
	for k > 0 && k < len(s) && s[k]&0xC0 == 0x80 {
		k--
	}
	copy(dst, s[:k])
	dst[k] = 0
}

//export kagen_abi_version
func kagen_abi_version() C.int { return C.KAGEN_ABI_VERSION }

// options converts the C options (nil: defaults).
func options(o *C.kagen_options) (ondevice.Options, error) {
	var out ondevice.Options
	if o == nil {
		return out, nil
	}
	out.Rate, out.Channels, out.Strict, out.MaxGap = int(o.rate), int(o.channels), o.strict != 0, float64(o.max_gap_s)
	if out.Rate < 0 || out.Channels < 0 {
		return out, fmt.Errorf("options: rate %d Hz and channels %d, expected 0 (the default) or more", out.Rate, out.Channels)
	}
	if o.device != nil {
		p, err := device.Lookup(C.GoStringN(o.device, C.int(cStrLen(o.device, 4096))))
		if err != nil {
			return out, fmt.Errorf("options: device: %w", err)
		}
		out.Device = p
	}
	return out, nil
}

// cStrLen is strlen bounded by limit.
func cStrLen(s *C.char, limit int) int {
	b := unsafe.Slice((*byte)(unsafe.Pointer(s)), limit)
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return limit
}

// open registers a handle opened by fn.
func open(out *C.kagen_handle, errBuf *C.char, errLen C.size_t, fn func() (*ondevice.Handle, error)) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			rc = C.KAGEN_EINTERNAL
			putString(errBuf, errLen, fmt.Sprintf("kagen: internal error (please report it): %v", p))
		}
	}()
	if out == nil {
		putString(errBuf, errLen, "kagen: out is NULL, expected a kagen_handle to write the handle to")
		return C.KAGEN_EINVAL
	}
	*out = 0
	h, err := fn()
	if err != nil {
		putString(errBuf, errLen, err.Error())
		var inval *invalidArg
		if errors.As(err, &inval) {
			return C.KAGEN_EINVAL
		}
		return C.KAGEN_EOPEN
	}
	putString(errBuf, errLen, "")
	*out = C.kagen_handle(cgo.NewHandle(&entry{h: h}))
	return C.KAGEN_OK
}

// invalidArg is a refused argument (KAGEN_EINVAL).
type invalidArg struct{ msg string }

func (e *invalidArg) Error() string { return e.msg }

//export kagen_open_files
func kagen_open_files(model, pol *C.char, opts *C.kagen_options, out *C.kagen_handle, errBuf *C.char, errLen C.size_t) C.int {
	return open(out, errBuf, errLen, func() (*ondevice.Handle, error) {
		if model == nil || pol == nil {
			return nil, &invalidArg{"kagen_open_files: model_path or policy_path is NULL, expected two file paths"}
		}
		o, err := options(opts)
		if err != nil {
			return nil, &invalidArg{err.Error()}
		}
		return ondevice.Open(C.GoStringN(model, C.int(cStrLen(model, 4096))), C.GoStringN(pol, C.int(cStrLen(pol, 4096))), o)
	})
}

//export kagen_open_memory
func kagen_open_memory(model unsafe.Pointer, modelLen C.size_t, pol unsafe.Pointer, polLen C.size_t, opts *C.kagen_options,
	out *C.kagen_handle, errBuf *C.char, errLen C.size_t) C.int {
	return open(out, errBuf, errLen, func() (*ondevice.Handle, error) {
		switch {
		case model == nil || pol == nil:
			return nil, &invalidArg{"kagen_open_memory: model or policy is NULL, expected two buffers"}
		case modelLen == 0 || uint64(modelLen) > maxModel:
			return nil, &invalidArg{fmt.Sprintf("kagen_open_memory: model_len %d, expected 1..%d bytes", uint64(modelLen), maxModel)}
		case polLen == 0 || uint64(polLen) > maxPolicy:
			return nil, &invalidArg{fmt.Sprintf("kagen_open_memory: policy_len %d, expected 1..%d bytes", uint64(polLen), maxPolicy)}
		}
		o, err := options(opts)
		if err != nil {
			return nil, &invalidArg{err.Error()}
		}
		// Copied: the engine keeps the model's bytes.
		m := C.GoBytes(model, C.int(modelLen))
		p := C.GoBytes(pol, C.int(polLen))
		return ondevice.OpenBytes(m, "model", p, "policy", o)
	})
}

//export kagen_get_info
func kagen_get_info(h C.kagen_handle, out *C.kagen_info) C.int {
	return with(h, func(e *entry) (C.int, error) {
		if out == nil {
			return C.KAGEN_EINVAL, errors.New("kagen_get_info: out is NULL")
		}
		d := e.h.Deployment()
		*out = C.kagen_info{task: C.KAGEN_TASK_IMU, window_size: C.int32_t(e.h.WindowSize()), n_columns: C.int32_t(len(e.h.Columns())),
			n_classes: C.int32_t(len(e.h.Classes())), n_levels: C.int32_t(len(d.Levels)), sample_rate: C.int32_t(e.h.SampleRate())}
		if d.Spec.Task == replay.TaskKWS {
			out.task = C.KAGEN_TASK_AUDIO
		}
		return C.KAGEN_OK, nil
	})
}

// name copies names[i] into buf.
func name(what string, names []string, i C.int32_t, buf *C.char, n C.size_t) (C.int, error) {
	if buf == nil || n == 0 {
		return C.KAGEN_EINVAL, fmt.Errorf("%s name: buf is NULL or len is 0", what)
	}
	if i < 0 || int(i) >= len(names) {
		putString(buf, n, "")
		return C.KAGEN_EINVAL, fmt.Errorf("%s %d, expected 0..%d", what, i, len(names)-1)
	}
	putString(buf, n, names[i])
	return C.KAGEN_OK, nil
}

//export kagen_class_name
func kagen_class_name(h C.kagen_handle, i C.int32_t, buf *C.char, n C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) { return name("class", e.h.Classes(), i, buf, n) })
}

//export kagen_column_name
func kagen_column_name(h C.kagen_handle, i C.int32_t, buf *C.char, n C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) { return name("column", e.h.Columns(), i, buf, n) })
}

// pushed queues the results of a push and returns their count, or the
// push's error code.
func (e *entry) pushed(rs []ondevice.Result, err error) (C.int, error) {
	if err != nil {
		if e.h.Stopped() != nil {
			return C.KAGEN_ESTREAM, err
		}
		return C.KAGEN_EINPUT, err
	}
	if e.pos == len(e.queue) {
		e.queue, e.scores, e.pos = e.queue[:0], e.scores[:0], 0
	}
	for _, r := range rs {
		q := queued{r: r, off: len(e.scores), n: len(r.Scores)}
		e.scores = append(e.scores, r.Scores...)
		q.r.Scores = nil
		e.queue = append(e.queue, q)
	}
	return C.int(len(rs)), nil
}

// slice views n elements of a C array, refusing NULL with n > 0 and n
// above the push limit.
func slice[T any](p unsafe.Pointer, n C.size_t, what string) ([]T, error) {
	if uint64(n) > maxPush {
		return nil, fmt.Errorf("%s: %d elements, more than the limit of %d per push", what, uint64(n), maxPush)
	}
	if n == 0 {
		return []T{}, nil
	}
	if p == nil {
		return nil, fmt.Errorf("%s is NULL with %d elements", what, uint64(n))
	}
	return unsafe.Slice((*T)(p), int(n)), nil
}

//export kagen_push_imu
func kagen_push_imu(h C.kagen_handle, ts *C.double, values *C.double, rows C.size_t, nValues C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) {
		t, err := slice[float64](unsafe.Pointer(ts), rows, "timestamps")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		v, err := slice[float64](unsafe.Pointer(values), nValues, "values")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		if nc := len(e.h.Columns()); nc > 0 && len(v) != len(t)*nc {
			return C.KAGEN_EINVAL, fmt.Errorf("kagen_push_imu: n_values %d for %d rows, expected %d (%d columns per row)", len(v), len(t), len(t)*nc, nc)
		}
		return e.pushed(e.h.PushIMU(t, v))
	})
}

//export kagen_push_pcm16
func kagen_push_pcm16(h C.kagen_handle, samples *C.int16_t, n C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) {
		s, err := slice[int16](unsafe.Pointer(samples), n, "samples")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		return e.pushed(e.h.PushPCM16(s))
	})
}

//export kagen_push_pcm_f32
func kagen_push_pcm_f32(h C.kagen_handle, samples *C.float, n C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) {
		s, err := slice[float32](unsafe.Pointer(samples), n, "samples")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		return e.pushed(e.h.PushPCM32(s))
	})
}

//export kagen_push_stream
func kagen_push_stream(h C.kagen_handle, b unsafe.Pointer, n C.size_t) C.int {
	return with(h, func(e *entry) (C.int, error) {
		s, err := slice[byte](b, n, "bytes")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		return e.pushed(e.h.PushStream(s))
	})
}

//export kagen_flush
func kagen_flush(h C.kagen_handle) C.int {
	return with(h, func(e *entry) (C.int, error) { return e.pushed(e.h.Flush()) })
}

// fill copies r (its scores from scores) into the C result.
func fill(out *C.kagen_result, r *ondevice.Result, scores []float32) {
	out.seq = C.int64_t(r.Seq)
	out.index = C.int32_t(r.Index)
	out.class_index = C.int32_t(r.Class)
	out.start_s, out.end_s = C.double(r.Start), C.double(r.End)
	out.confidence = C.float(r.Confidence)
	out.level, out.next_level = C.int32_t(r.Level), C.int32_t(r.Next)
	out.non_finite = 0
	if r.NonFinite {
		out.non_finite = 1
	}
	out.latency_us, out.energy_j = C.double(r.LatencyUS), C.double(r.EnergyJ)
	out.n_scores = C.int32_t(len(scores))
	for i := range out.scores {
		v := float32(0)
		if i < len(scores) {
			v = scores[i]
		}
		out.scores[i] = C.float(v)
	}
	rule := unsafe.Slice((*byte)(unsafe.Pointer(&out.rule[0])), len(out.rule))
	k := min(len(r.Rule), len(rule)-1)
	copy(rule, r.Rule[:k])
	clear(rule[k:])
}

//export kagen_next_result
func kagen_next_result(h C.kagen_handle, out *C.kagen_result) C.int {
	return with(h, func(e *entry) (C.int, error) {
		if out == nil {
			return C.KAGEN_EINVAL, errors.New("kagen_next_result: out is NULL")
		}
		if e.pos == len(e.queue) {
			return 0, nil
		}
		q := &e.queue[e.pos]
		e.pos++
		fill(out, &q.r, e.scores[q.off:q.off+q.n])
		return 1, nil
	})
}

//export kagen_push_window
func kagen_push_window(h C.kagen_handle, w *C.float, n C.size_t, out *C.kagen_result) C.int {
	return with(h, func(e *entry) (C.int, error) {
		if out == nil {
			return C.KAGEN_EINVAL, errors.New("kagen_push_window: out is NULL")
		}
		if int(n) != e.h.WindowSize() {
			return C.KAGEN_EINVAL, fmt.Errorf("kagen_push_window: n %d, expected the window size %d", uint64(n), e.h.WindowSize())
		}
		x, err := slice[float32](unsafe.Pointer(w), n, "window")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		r, err := e.h.PushWindow(x)
		if err != nil {
			return C.KAGEN_EINPUT, err
		}
		fill(out, r, r.Scores)
		return C.KAGEN_OK, nil
	})
}

//export kagen_get_stats
func kagen_get_stats(h C.kagen_handle, out *C.kagen_stats) C.int {
	return with(h, func(e *entry) (C.int, error) {
		if out == nil {
			return C.KAGEN_EINVAL, errors.New("kagen_get_stats: out is NULL")
		}
		s := e.h.Stats()
		*out = C.kagen_stats{windows: C.int64_t(s.Windows), switches: C.int64_t(s.Switches), non_finite: C.int64_t(s.NonFinite),
			bad_lines: C.int64_t(s.BadLines), gaps: C.int64_t(s.Gaps), busy_us: C.double(s.BusyUS), energy_j: C.double(s.EnergyJ),
			n_levels: C.int32_t(len(s.LevelWindows))}
		for i, n := range s.LevelWindows {
			if i < len(out.level_windows) {
				out.level_windows[i] = C.int64_t(n)
			}
		}
		return C.KAGEN_OK, nil
	})
}

//export kagen_reset_stats
func kagen_reset_stats(h C.kagen_handle) C.int {
	return with(h, func(e *entry) (C.int, error) {
		e.h.ResetStats()
		return C.KAGEN_OK, nil
	})
}

//export kagen_set_goal
func kagen_set_goal(h C.kagen_handle, goal C.int32_t, value C.double) C.int {
	return with(h, func(e *entry) (C.int, error) {
		var err error
		switch goal {
		case C.KAGEN_GOAL_FLOOR_PP:
			err = e.h.SetFloor(float64(value))
		case C.KAGEN_GOAL_BUDGET_J:
			err = e.h.SetBudget(float64(value), 0)
		case C.KAGEN_GOAL_BUDGET_US:
			err = e.h.SetBudget(0, float64(value))
		default:
			err = fmt.Errorf("kagen_set_goal: goal %d, expected KAGEN_GOAL_FLOOR_PP, KAGEN_GOAL_BUDGET_J or KAGEN_GOAL_BUDGET_US", goal)
		}
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		return C.KAGEN_OK, nil
	})
}

//export kagen_last_error
func kagen_last_error(h C.kagen_handle, buf *C.char, n C.size_t) (rc C.int) {
	defer func() {
		if recover() != nil {
			rc = C.KAGEN_EINTERNAL
		}
	}()
	e := lookup(h)
	if e == nil {
		msg := fmt.Sprintf("kagen: handle %d is not open (closed, or never returned by kagen_open_*)", uint64(h))
		putString(buf, n, msg)
		return C.int(len(msg))
	}
	if !e.mu.TryLock() {
		return C.KAGEN_EBUSY
	}
	defer e.mu.Unlock()
	putString(buf, n, e.lastErr)
	return C.int(len(e.lastErr))
}

//export kagen_close
func kagen_close(h C.kagen_handle) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			rc = C.KAGEN_EINTERNAL
		}
	}()
	e := lookup(h)
	if e == nil {
		return C.KAGEN_EHANDLE
	}
	if !e.mu.TryLock() {
		return C.KAGEN_EBUSY
	}
	defer e.mu.Unlock()
	if e.h == nil {
		return C.KAGEN_EHANDLE
	}
	e.h.Close()
	e.h = nil
	cgo.Handle(uintptr(h)).Delete()
	return C.KAGEN_OK
}

//export kagen_bench_window
func kagen_bench_window(h C.kagen_handle, w *C.float, n C.size_t, rounds C.int64_t, ns *C.double) C.int {
	return with(h, func(e *entry) (C.int, error) {
		if ns == nil || rounds <= 0 || rounds > 10_000_000 {
			return C.KAGEN_EINVAL, fmt.Errorf("kagen_bench_window: ns_per_window NULL or rounds %d, expected 1..10000000", rounds)
		}
		x, err := slice[float32](unsafe.Pointer(w), n, "window")
		if err != nil {
			return C.KAGEN_EINVAL, err
		}
		t0 := time.Now()
		for range int64(rounds) {
			if _, err := e.h.PushWindow(x); err != nil {
				return C.KAGEN_EINPUT, err
			}
		}
		*ns = C.double(float64(time.Since(t0).Nanoseconds()) / float64(rounds))
		return C.KAGEN_OK, nil
	})
}
