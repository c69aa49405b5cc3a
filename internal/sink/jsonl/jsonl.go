// Package jsonl writes events as JSON lines: one schema v1 object per line.
package jsonl

import (
	"bufio"
	"fmt"
	"io"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Writer writes events to an io.Writer through a buffer; call Flush at the end.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// New returns a Writer on w.
func New(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64*1024), buf: make([]byte, 0, 1024)}
}

// Write writes one event and a newline.
func (w *Writer) Write(ev *event.Event) error {
	w.buf = ev.AppendJSON(w.buf[:0])
	w.buf = append(w.buf, '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("jsonl: %w", err)
	}
	return nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("jsonl: %w", err)
	}
	return nil
}
