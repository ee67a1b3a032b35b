// Package dist runs kagen's profiling and tuning trials on NATS JetStream:
// an embedded server with in-process workers on one machine, or the
// workers of a real cluster (kagen worker) from any machine or device.
//
// A Coordinator is a profile.Executor: profile.MeasureWith and
// profile.TuneWith plan the trials and assemble the results exactly as the
// local profile.Measure and profile.Tune do, and the coordinator publishes the
// model and the data shards to an object store (named by SHA-256), queues
// the trials on a work-queue stream (latency trials on a subject of their
// device class, the others where any worker takes them) and collects one
// result per trial ID from a results stream. Workers (Worker) pull trials,
// run them with a profile.TrialRunner and publish the results; a worker
// that dies mid-trial stops signalling progress and its trial is
// redelivered after the ack wait; a restarted coordinator takes the results
// already stored and queues only the rest. docs/distributed.md describes
// the layout, the failure handling and the measured overheads.
package dist
