package modelfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model/tinymodel"
)

// TestCheckSaysWhatIsWrong checks that a damaged or wrong model file is
// refused with an Error that names the file and the problem in words,
// never in the safetensors, zip or pickle reader's terms.
func TestCheckSaysWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	tinymodel.Save(t, good)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("archive/data.pkl")
	w.Write(bytes.Repeat([]byte("x"), 4096))
	zw.Close()
	wav := filepath.Join(dir, "take.wav")
	if err := audio.WriteWAV(wav, [][]float32{make([]float32, 4800)}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string // in dir; written with data unless empty
		data    []byte
		problem string
	}{
		{"empty", "empty.safetensors", []byte{}, "the file is empty"},
		{"a few bytes", "short.safetensors", []byte("abc"), "the file is cut short or is not a safetensors file"},
		{"header cut short", "cut.safetensors", whole[:2000], "the file is cut short"},
		{"weights cut short", "cut2.safetensors", whole[:len(whole)*2/3], "the file is cut short"},
		{"random bytes", "noise.safetensors", bytes.Repeat([]byte{0x5a, 0xc3, 0x11, 0x97}, 64), "the file is cut short or is not a safetensors file"},
		{"text", "notes.safetensors", []byte("hello, not a model\n"), "the file is cut short or is not a safetensors file"},
		{"audio given as the model", "take.wav", nil, "it is an audio file"},
		{"checkpoint that is text", "model.ckpt", []byte("not a checkpoint at all"), "the file is cut short or is not a PyTorch checkpoint"},
		{"checkpoint cut short", "cut.ckpt", zipped.Bytes()[:zipped.Len()/2], "the file is cut short"},
		{"npz that is a safetensors file", "weights.npz", whole, "the file is cut short or is not a NumPy .npz archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if tt.data != nil {
				if err := os.WriteFile(path, tt.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Check(path, "model")
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Check(%s) = %v, want an *Error", tt.file, err)
			}
			want := path + ": not a RAVE model file (" + tt.problem + ")"
			if err.Error() != want {
				t.Errorf("Check(%s) = %q, want %q", tt.file, err, want)
			}
		})
	}
	if err := Check(good, "model"); err != nil {
		t.Errorf("Check of a whole model: %v", err)
	}
}
