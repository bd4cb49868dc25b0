// gomultipart reads a multipart/form-data body on stdin the way execd's
// upload handler does (Go's mime/multipart ReadForm, then the "metadata"
// and "file" file parts paired in order) and prints what arrived as JSON:
// [{"path": <metadata path>, "filename": <file part's FileName()>, "size": N}].
// It exits 1 with a message on stderr when execd would answer 400.
//
//	go build -o build/gomultipart tests/gomultipart/main.go
//	build/gomultipart BOUNDARY < body
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"os"
)

type meta struct {
	Path string `json:"path"`
}

type item struct {
	Path     string `json:"path"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: gomultipart BOUNDARY < body")
	}
	form, err := multipart.NewReader(os.Stdin, os.Args[1]).ReadForm(32 << 20)
	if err != nil {
		fail("multipart: %v", err)
	}
	metas, files := form.File["metadata"], form.File["file"]
	if len(metas) == 0 || len(files) == 0 || len(metas) != len(files) {
		fail("metadata/file parts: %d vs %d", len(metas), len(files))
	}
	out := []item{}
	for i := range metas {
		f, err := metas[i].Open()
		if err != nil {
			fail("metadata: %v", err)
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		var m meta
		if err := json.Unmarshal(raw, &m); err != nil || m.Path == "" {
			fail("metadata JSON: %v", err)
		}
		out = append(out, item{Path: m.Path, Filename: files[i].Filename, Size: files[i].Size})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}
