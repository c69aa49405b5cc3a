// Package source reads the outside world. This file reads log files and exported log
// archives: plain text, gzip, zip (a retrieved Dinamo log is often zipped) and standard
// input, recognised by their first bytes rather than their names.
package source

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Stream is one text stream of an input: a file, standard input, or one entry of a zip.
type Stream struct {
	// Name says where the lines come from: "app.log", "-" for standard input,
	// "export.zip:hsmlogs.txt" for a zip entry.
	Name string
	// ModTime is the modification time of the file or zip entry; zero for standard input.
	// Parsers use it to infer the year of timestamps that lack one.
	ModTime time.Time
	R       io.Reader
}

// Open calls fn for each text stream of path ("-" is stdin), decompressing gzip and
// expanding zip archives. The error names the input; an error returned by fn stops the walk.
func Open(ctx context.Context, path string, stdin io.Reader, fn func(Stream) error) error {
	if path == "-" {
		return openReader(ctx, "-", time.Time{}, stdin, fn)
	}
	f, err := os.Open(path)
	if err != nil {
		return err // *PathError names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	return openReader(ctx, path, st.ModTime(), f, fn)
}

// The first bytes that identify compressed inputs.
const (
	gzipMagic = "\x1f\x8b"
	zipMagic  = "PK\x03\x04"
)

func openReader(ctx context.Context, name string, mod time.Time, r io.Reader, fn func(Stream) error) error {
	br := bufio.NewReaderSize(r, 64*1024)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case strings.HasPrefix(string(head), gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		if !zr.ModTime.IsZero() {
			mod = zr.ModTime
		}
		return openReader(ctx, name, mod, zr, fn)
	case strings.HasPrefix(string(head), zipMagic):
		return openZip(ctx, name, br, fn)
	}
	return fn(Stream{Name: name, ModTime: mod, R: br})
}

// openZip expands a zip archive. zip needs random access, so a stream (standard input,
// a zip inside a gzip) is spooled to a temporary file first.
func openZip(ctx context.Context, name string, r io.Reader, fn func(Stream) error) error {
	tmp, err := os.CreateTemp("", "hsmwatch-zip-*")
	if err != nil {
		return fmt.Errorf("%s: spooling zip: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, r)
	if err != nil {
		return fmt.Errorf("%s: spooling zip: %w", name, err)
	}
	zr, err := zip.NewReader(tmp, size)
	if err != nil {
		return fmt.Errorf("%s: zip: %w", name, err)
	}
	for _, entry := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if entry.FileInfo().IsDir() {
			continue
		}
		if err := openZipEntry(ctx, name, entry, fn); err != nil {
			return err
		}
	}
	return nil
}

func openZipEntry(ctx context.Context, archive string, entry *zip.File, fn func(Stream) error) error {
	name := archive + ":" + entry.Name
	rc, err := entry.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	return openReader(ctx, name, entry.Modified, rc, fn)
}
