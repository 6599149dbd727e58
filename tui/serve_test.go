package tui

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestServeSSH serves the workstation on a loopback port and connects
// with an SSH client: the authorised key gets its own TUI, another key and
// a password are refused, and the host key is generated and kept.
func TestServeSSH(t *testing.T) {
	withHome(t)
	dir := t.TempDir()
	signer := newSigner(t)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(dir, "ssh", "host_ed25519")
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ServeOptions{Listen: "127.0.0.1:0", AuthorizedKeys: keys, HostKeyPath: hostKey,
			Options: testOptions(t, nil), Ready: func(a net.Addr) { addrs <- a }})
	}()
	var addr string
	select {
	case a := <-addrs:
		addr = a.String()
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not start listening")
	}
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	}()
	if _, err := os.Stat(hostKey); err != nil {
		t.Errorf("host key not generated: %v", err)
	}

	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("authorised key refused: %v", err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	var out syncBuffer
	sess.Stdout = &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	// The server asks the client's terminal nothing (a terminal that would
	// not answer must not hang the connection), so no replies are sent.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "No sessions yet") {
		if time.Now().After(deadline) {
			t.Fatalf("no workstation over SSH; got %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "audio off") {
		t.Errorf("an SSH client should get WAV export, not server-side audio: %q", out.String())
	}
	io.WriteString(stdin, "q")
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the SSH session did not end after q")
	}

	for name, auth := range map[string]gossh.AuthMethod{
		"another key": gossh.PublicKeys(newSigner(t)),
		"a password":  gossh.Password("secret"),
	} {
		c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "mallory", Auth: []gossh.AuthMethod{auth},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil {
			c.Close()
			t.Errorf("%s was accepted", name)
		}
	}
}

func TestServeNeedsAuthorizedKeys(t *testing.T) {
	withHome(t)
	if err := Serve(context.Background(), ServeOptions{}); err == nil {
		t.Error("Serve without authorized keys: no error")
	}
	err := Serve(context.Background(), ServeOptions{AuthorizedKeys: filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "authorized keys") {
		t.Errorf("Serve with a missing keys file: %v", err)
	}
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
