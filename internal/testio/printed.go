package testio

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Printed is one place in a program's code that prints a line on stderr:
// a call of a *log.Logger's Printf, Print or Println (spelled logger, or a
// field log), a fmt.Fprint call on stderr, or a log.New whose prefix says
// "warning: " (a logger for what the standard library logs).
type Printed struct {
	// Key names the place without a line number, so that edits elsewhere
	// do not move it: the file's slash path from the root, the function,
	// and the format, e.g. `server/server.go warnHost: warning: refused a
	// request for host %q ...`; a second call with the same format in the
	// same function ends in " (2)".
	Key string
	// Format is the call's format string, without a trailing newline. A
	// logger adds its own prefix to it; a write to stderr does not.
	Format string
	// Logged is true for a logger's lines, false for writes to stderr.
	Logged bool
	Pos    token.Position
}

// Warning reports whether the line says it is a warning.
func (p Printed) Warning() bool {
	return strings.HasPrefix(p.Format, "warning: ") || strings.HasPrefix(p.Format, "hotserve: warning: ")
}

// Line is the regular expression for a whole line printed at p with the
// logger prefix prefix: %d stands for a number, %q for a quoted string, any
// other verb for any text without a line break.
func (p Printed) Line(prefix string) *regexp.Regexp {
	if !p.Logged {
		prefix = ""
	}
	f := prefix + p.Format
	var b strings.Builder
	last := 0
	for _, loc := range verb.FindAllStringIndex(f, -1) {
		b.WriteString(regexp.QuoteMeta(f[last:loc[0]]))
		switch f[loc[1]-1] {
		case 'd':
			b.WriteString(`-?\d+`)
		case 'q':
			b.WriteString(`".*"`)
		default:
			b.WriteString(`.+`)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(f[last:]))
	return regexp.MustCompile(`^` + b.String() + `$`)
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// PrintedLines parses the Go files under root, not tests, nor folders
// named in skip or starting with a dot or testdata, and returns every
// place that prints on stderr. A format that is not a string literal is an
// error: its lines could not be told apart.
func PrintedLines(root string, skip ...string) ([]Printed, error) {
	var out []Printed
	var bad []string
	seen := map[string]int{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || slices.Contains(skip, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			add := func(format ast.Expr, logged bool) {
				pos := fset.Position(format.Pos())
				s, ok := literal(format)
				if !ok {
					bad = append(bad, pos.String())
					return
				}
				s = strings.TrimSuffix(s, "\n")
				key := rel + " " + fn.Name.Name + ": " + s
				if seen[key]++; seen[key] > 1 {
					key += fmt.Sprintf(" (%d)", seen[key])
				}
				out = append(out, Printed{Key: key, Format: s, Logged: logged, Pos: pos})
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				pkg := ""
				if id, ok := sel.X.(*ast.Ident); ok {
					pkg = id.Name
				}
				switch {
				case pkg == "fmt" && strings.HasPrefix(sel.Sel.Name, "Fprint") && len(call.Args) > 1 && isStderr(call.Args[0]):
					add(call.Args[1], false)
				case pkg != "fmt" && (sel.Sel.Name == "Printf" || sel.Sel.Name == "Println" || sel.Sel.Name == "Print") && isLogger(sel.X):
					add(call.Args[0], true)
				case pkg == "log" && sel.Sel.Name == "New" && len(call.Args) == 3:
					if b, ok := call.Args[1].(*ast.BinaryExpr); ok && b.Op == token.ADD {
						if s, ok := literal(b.Y); ok && s == "warning: " {
							// What the standard library logs through it.
							add(&ast.BasicLit{ValuePos: b.Y.Pos(), Kind: token.STRING, Value: strconv.Quote(s + "%v")}, true)
						}
					}
				}
				return true
			})
		}
		return nil
	})
	if err == nil && len(bad) > 0 {
		err = fmt.Errorf("lines printed on stderr whose format is not a string literal, so that they cannot be told apart: %s", strings.Join(bad, ", "))
	}
	return out, err
}

// isStderr reports whether e names the standard error stream.
func isStderr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "stderr"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Stderr" || e.Sel.Name == "stderr"
	}
	return false
}

// isLogger reports whether e names a *log.Logger as the code spells them:
// logger, or a field log.
func isLogger(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "logger"
	case *ast.SelectorExpr:
		return e.Sel.Name == "log"
	}
	return false
}

// literal is the value of a string literal, or of a sum of them.
func literal(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := literal(e.X)
			b, ok2 := literal(e.Y)
			return a + b, ok1 && ok2
		}
	}
	return "", false
}
