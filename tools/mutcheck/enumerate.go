package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Mutant is one single-site change of one source file: the bytes [Start, End) of File are
// replaced by Repl. ID is stable as long as the file is unchanged ("file:line:col op#k").
type Mutant struct {
	ID    string `json:"id"`
	Pkg   string `json:"pkg"`
	File  string `json:"file"` // path relative to the repository root, slash-separated
	Line  int    `json:"line"`
	Func  string `json:"func"` // enclosing function ("Recv.Name" or "Name"), "" at file level
	Op    string `json:"op"`   // operator name, see operators in README.md
	Start int    `json:"start"`
	End   int    `json:"end"`
	Orig  string `json:"orig"`
	Repl  string `json:"repl"`
}

// Describe returns the mutant in the form used by the test cases: "file:line 'orig' -> 'repl'".
func (m Mutant) Describe() string {
	o, r := m.Orig, m.Repl
	if len(o) > 60 {
		o = o[:57] + "..."
	}
	if len(r) > 60 {
		r = r[:57] + "..."
	}
	o = strings.Join(strings.Fields(o), " ")
	r = strings.Join(strings.Fields(r), " ")
	return fmt.Sprintf("%s:%d '%s' -> '%s'", m.File, m.Line, o, r)
}

// Apply returns src with the mutant's change made.
func (m Mutant) Apply(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(m.Repl))
	out = append(out, src[:m.Start]...)
	out = append(out, m.Repl...)
	return append(out, src[m.End:]...)
}

var (
	relSwap = map[token.Token]token.Token{
		token.LSS: token.LEQ, token.LEQ: token.LSS,
		token.GTR: token.GEQ, token.GEQ: token.GTR,
		token.EQL: token.NEQ, token.NEQ: token.EQL,
	}
	ruleNumber = regexp.MustCompile(`^"(\d+(?:\.\d+)*)"$`)
)

// enumerator walks one file and collects its mutants.
type enumerator struct {
	fset    *token.FileSet
	src     []byte
	pkg     string
	file    string
	funcs   []string     // stack of enclosing function names
	results [][]ast.Expr // stack of enclosing functions' result types
	out     []Mutant
}

// Enumerate returns every mutant of one Go source file, in source order. file is the name
// recorded in the mutants (relative to the repository root); pkg is the package directory.
func Enumerate(pkg, file string, src []byte) ([]Mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	e := &enumerator{fset: fset, src: src, pkg: pkg, file: file}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				name = recvName(d.Recv.List[0].Type) + "." + name
			}
			e.push(name, d.Type)
			if d.Body != nil {
				e.walk(d.Body)
			}
			e.pop()
		case *ast.GenDecl:
			if d.Tok == token.CONST || d.Tok == token.VAR {
				e.walk(d)
			}
		}
	}
	sort.SliceStable(e.out, func(i, j int) bool { return e.out[i].Start < e.out[j].Start })
	seen := map[string]int{}
	for i := range e.out {
		m := &e.out[i]
		pos := fset.Position(token.Pos(fset.File(f.Pos()).Base() + m.Start))
		m.Line = pos.Line
		key := fmt.Sprintf("%s:%d:%d:%s", file, pos.Line, pos.Column, m.Op)
		seen[key]++
		m.ID = fmt.Sprintf("%s#%d", key, seen[key])
	}
	return e.out, nil
}

func recvName(t ast.Expr) string {
	switch t := t.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	}
	return "?"
}

func (e *enumerator) push(name string, ft *ast.FuncType) {
	e.funcs = append(e.funcs, name)
	var res []ast.Expr
	if ft.Results != nil {
		for _, f := range ft.Results.List {
			n := len(f.Names)
			if n == 0 {
				n = 1
			}
			for range n {
				res = append(res, f.Type)
			}
		}
	}
	e.results = append(e.results, res)
}

func (e *enumerator) pop() {
	e.funcs = e.funcs[:len(e.funcs)-1]
	e.results = e.results[:len(e.results)-1]
}

func (e *enumerator) off(p token.Pos) int { return e.fset.Position(p).Offset }

func (e *enumerator) add(op string, start, end int, repl string) {
	fn := ""
	if len(e.funcs) > 0 {
		fn = e.funcs[0]
	}
	e.out = append(e.out, Mutant{Pkg: e.pkg, File: e.file, Func: fn, Op: op,
		Start: start, End: end, Orig: string(e.src[start:end]), Repl: repl})
}

// isErrorType reports whether t names the error interface or an error type of the package
// (a name ending in "Error" or starting with "Err"), for which nil is a non-error return.
func isErrorType(t ast.Expr) bool {
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	id, ok := t.(*ast.Ident)
	return ok && (id.Name == "error" || strings.HasSuffix(id.Name, "Error") || strings.HasPrefix(id.Name, "Err"))
}

func isNil(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "nil"
}

func (e *enumerator) walk(root ast.Node) {
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			e.push(e.curFunc(), n.Type)
			e.walk(n.Body)
			e.pop()
			return false
		case *ast.BinaryExpr:
			op := e.off(n.OpPos)
			if r, ok := relSwap[n.Op]; ok {
				e.add("rel", op, op+len(n.Op.String()), r.String())
				e.intLits(n.X)
				e.intLits(n.Y)
			}
			switch n.Op {
			case token.LAND:
				e.add("logic", op, op+2, "||")
			case token.LOR:
				e.add("logic", op, op+2, "&&")
			}
		case *ast.IfStmt:
			s, t := e.off(n.Cond.Pos()), e.off(n.Cond.End())
			e.add("negate-if", s, t, "!("+string(e.src[s:t])+")")
		case *ast.Ident:
			s := e.off(n.Pos())
			switch n.Name {
			case "true":
				e.add("bool", s, s+4, "false")
			case "false":
				e.add("bool", s, s+5, "true")
			}
		case *ast.ValueSpec:
			for _, v := range n.Values {
				e.intLits(v)
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if m := ruleNumber.FindStringSubmatch(n.Value); m != nil {
					parts := strings.Split(m[1], ".")
					k, _ := strconv.Atoi(parts[len(parts)-1])
					parts[len(parts)-1] = strconv.Itoa(k + 1)
					s := e.off(n.Pos())
					e.add("rule", s, s+len(n.Value), `"`+strings.Join(parts, ".")+`"`)
				}
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "sub" && len(n.Args) == 2 {
				e.intLitsOp("rule", n.Args[1]) // authrules: sub(parent, i) builds rule numbers
			}
		case *ast.BlockStmt:
			e.deletions(n.List)
		case *ast.CaseClause:
			e.deletions(n.Body)
		case *ast.CommClause:
			e.deletions(n.Body)
		case *ast.ReturnStmt:
			if len(e.results) == 0 {
				break
			}
			res := e.results[len(e.results)-1]
			if len(n.Results) == 0 || len(n.Results) != len(res) || !isErrorType(res[len(res)-1]) {
				break
			}
			last := n.Results[len(n.Results)-1]
			if isNil(last) {
				break
			}
			s, t := e.off(last.Pos()), e.off(last.End())
			e.add("return-nil", s, t, "nil")
		}
		return true
	})
}

func (e *enumerator) curFunc() string {
	if len(e.funcs) == 0 {
		return ""
	}
	return e.funcs[len(e.funcs)-1]
}

// intLits adds n+1 and n-1 mutants for the integer literals directly forming x (a literal,
// possibly negated or parenthesised).
func (e *enumerator) intLits(x ast.Expr) { e.intLitsOp("int", x) }

// intLitsOp is intLits with the operator name prefix op ("int" or "rule").
func (e *enumerator) intLitsOp(op string, x ast.Expr) {
	for {
		switch p := x.(type) {
		case *ast.ParenExpr:
			x = p.X
			continue
		case *ast.UnaryExpr:
			if p.Op == token.SUB {
				x = p.X
				continue
			}
		}
		break
	}
	lit, ok := x.(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		return
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(lit.Value, "_", ""), 0, 64)
	if err != nil {
		return
	}
	s := e.off(lit.Pos())
	t := s + len(lit.Value)
	e.add(op+"+1", s, t, strconv.FormatInt(v+1, 10))
	if v > 0 {
		e.add(op+"-1", s, t, strconv.FormatInt(v-1, 10))
	}
}

// deletions adds statement-deletion mutants: plain assignments (not :=) and calls whose
// result is unused.
func (e *enumerator) deletions(list []ast.Stmt) {
	for _, st := range list {
		del := false
		switch st := st.(type) {
		case *ast.AssignStmt:
			del = st.Tok != token.DEFINE
		case *ast.ExprStmt:
			_, del = st.X.(*ast.CallExpr)
			if c, ok := st.X.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "panic" {
					del = true
				}
			}
		case *ast.IncDecStmt:
			del = true
		}
		if del {
			s, t := e.off(st.Pos()), e.off(st.End())
			e.add("delete", s, t, "")
		}
	}
}
