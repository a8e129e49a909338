package schedules

import (
	"reflect"
	"sort"
)

// The config file is TOML too, edited by the same admins: it is read with the
// schedule's line index and its Chinese advice on syntax and types, so that
// both files name the line and say what to change in the same words.

// Lines finds the line that sets a key in a TOML file.
type Lines struct{ idx lineIndex }

// IndexLines indexes the keys of a TOML file's text.
func IndexLines(src string) Lines { return Lines{indexLines(src)} }

// Line is the line of a key path ("bot.admins", "unit[2].members"), else of
// its closest enclosing table, else 0.
func (l Lines) Line(path string) int { return l.idx.line(path) }

// Find is the lines that set key, as toml.Key prints it (no indexes of
// arrays of tables: "unit.membrs"), in file order; {0} when none does.
func (l Lines) Find(key string) []int { return l.idx.find(key) }

// SyntaxError says in Chinese, at its line, why a file's text is not TOML;
// err is the decoder's error.
func SyntaxError(name string, data []byte, err error, kind FileKind) Error {
	return syntaxError(name, string(data), err, kind)
}

// CheckTypes compares a loosely decoded file (raw, from toml.Decode into a
// map) with the shape it is read into: each value of the wrong type is an
// Error at its own line, in Chinese. Keys the shape does not have are left
// to the caller's check for unknown keys.
func CheckTypes(name string, data []byte, shape reflect.Type, raw map[string]any) Errors {
	b := &builder{file: name, lines: indexLines(string(data))}
	b.checkTypes(shape, raw, "")
	return b.errs
}

// Sort puts errors in line order, those about the whole file (line 0) first.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}
