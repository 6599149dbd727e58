// Package runlog is the file formats a training run leaves in its folder,
// for the trainer that writes them (train) and for what reads them
// (sessions, plots, the workstation): the status.json heartbeat (Status),
// the metrics.jsonl log (MetricsLog, MetricsRecord) and the
// runs/run-ID.json records (Run), with the stage and event kinds they
// carry. It imports neither train nor sessions.
package runlog
