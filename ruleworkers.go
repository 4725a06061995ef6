package cancellation

import "time"

// Rules, and the effects of one request, run on goroutines that outlive
// their job for a moment, so that the next job reuses them and their grown
// stacks instead of starting (and growing) a goroutine each time: for
// rules that answer at once, goroutine starts and stack growth were most
// of Evaluate's cost.

// idleWorkers hands a job to a worker waiting for one. It is unbuffered:
// a send succeeds only while a worker waits.
var idleWorkers = make(chan func())

// spreadAfter is how long the rules of an evaluation, or the effects of a
// request, run one after another before those not yet started are spread
// over goroutines of their own (see RuleSet.Evaluate and executeAll).
const spreadAfter = 200 * time.Microsecond

// workerIdle is how long a worker waits for another job before it ends.
const workerIdle = time.Second

// goWork runs job on an idle worker, or on a new one when none waits.
func goWork(job func()) {
	select {
	case idleWorkers <- job:
	default:
		go work(job)
	}
}

// work runs job, then the jobs handed to it, until none comes for
// workerIdle. Jobs must not panic.
func work(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-idleWorkers:
		case <-idle.C:
			return
		}
	}
}
