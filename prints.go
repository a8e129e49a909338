package main

import (
	"errors"
	"sync"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/store"
)

// printQueueLen is how many stored photos may wait for their print-size
// copy. One over it is left to be made on first use (the 汇编 or the
// dashboard), as are the photos stored before this version.
const printQueueLen = 256

// printer makes the print-size copies of newly stored photos in the
// background, one at a time: scaling a phone photo takes half a second of a
// core, which the messages and the receipts must not wait for, and a burst of
// photos must not take every core from them either.
type printer struct {
	queue chan string
	stop  chan struct{}
	done  chan struct{}
	// make makes and keeps one photo's copy; tests hold it up.
	make func(sum string)
	// stopped makes close safe to call twice: a test stops the worker
	// before checking the store, and App.Close stops it again.
	stopped sync.Once
}

func newPrinter(db *store.DB, log zerolog.Logger) *printer {
	return &printer{queue: make(chan string, printQueueLen), stop: make(chan struct{}), done: make(chan struct{}),
		make: func(sum string) {
			warn := func(err error) { log.Warn().Err(err).Msg("keep a print copy") }
			// Not a picture Go decodes (HEIC): the 汇编 says so in words, the dashboard shows a placeholder.
			if _, err := export.PrintCopy(db, db, sum, warn); err != nil && !errors.Is(err, export.ErrNoPicture) {
				log.Error().Err(err).Str("blob", sum).Msg("make a print copy")
			}
		}}
}

// add is bot.Options.ImageStored: it never waits.
func (p *printer) add(sub bot.Submission) {
	select {
	case p.queue <- sub.Blob:
	default: // full: made on first use
	}
}

func (p *printer) start() { go p.run() }

func (p *printer) run() {
	defer close(p.done)
	for {
		// Stopping first: a long queue is not worked off at shutdown.
		select {
		case <-p.stop:
			return
		default:
		}
		select {
		case <-p.stop:
			return
		case sum := <-p.queue:
			p.make(sum)
		}
	}
}

// close stops the worker after the copy in hand, before the store closes.
// The photos still queued get their copies on first use.
func (p *printer) close() {
	p.stopped.Do(func() { close(p.stop) })
	<-p.done
}
