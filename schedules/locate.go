package schedules

import (
	"strconv"
	"strings"
)

// lineIndex maps key paths such as "task[2].remind[0].when" to the line that sets
// them. BurntSushi/toml reports positions for syntax errors only, and for arrays of
// tables it cannot tell one element's key from another's, so semantic errors find
// their line here. It reads the file line by line and understands what admins
// write: table headers, arrays of tables, key = value, multi-line strings and arrays.
type lineIndex map[string]int

func indexLines(src string) lineIndex {
	idx := lineIndex{}
	counts := map[string]int{} // array-of-tables path -> elements seen
	current := ""
	inString := "" // the delimiter of an open multi-line string
	depth := 0     // open brackets of a multi-line value
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		if inString != "" {
			if strings.Contains(line, inString) {
				inString = ""
			}
			continue
		}
		s := strings.TrimSpace(stripComment(line))
		if depth > 0 {
			depth += strings.Count(s, "[") - strings.Count(s, "]")
			continue
		}
		switch {
		case s == "":
		case strings.HasPrefix(s, "[["):
			name := strings.TrimSpace(strings.Trim(s, "[]"))
			parent := arrayParent(name, counts)
			counts[parent]++
			current = parent + "[" + strconv.Itoa(counts[parent]-1) + "]"
			idx[current] = n
		case strings.HasPrefix(s, "["):
			current = strings.TrimSpace(strings.Trim(s, "[]"))
			idx[current] = n
		default:
			key, value, ok := strings.Cut(s, "=")
			if !ok {
				continue
			}
			key = strings.Trim(strings.TrimSpace(key), `"'`)
			path := key
			if current != "" {
				path = current + "." + key
			}
			idx[path] = n
			value = strings.TrimSpace(value)
			for _, q := range []string{`"""`, `'''`} {
				if strings.HasPrefix(value, q) && strings.Count(value, q) == 1 {
					inString = q
				}
			}
			if inString == "" {
				depth = strings.Count(value, "[") - strings.Count(value, "]")
				if depth < 0 {
					depth = 0
				}
			}
		}
	}
	return idx
}

// arrayParent turns a header name like "task.remind" into the indexed path of its
// enclosing element, "task[3].remind", using the elements seen so far.
func arrayParent(name string, counts map[string]int) string {
	parts := strings.Split(name, ".")
	path := ""
	for i, p := range parts {
		if path != "" {
			path += "."
		}
		path += strings.TrimSpace(p)
		if i < len(parts)-1 && counts[path] > 0 {
			path += "[" + strconv.Itoa(counts[path]-1) + "]"
		}
	}
	return path
}

// stripComment drops a trailing # comment that is not inside a string.
func stripComment(line string) string {
	code, _ := splitLine(line)
	return code
}

// outsideStrings is what a line says outside its quoted strings and its
// comment: Chinese quotes inside "…" or after # are the admin's words.
func outsideStrings(line string) string {
	_, outside := splitLine(line)
	return outside
}

// splitLine reads a line once: its text before a # comment that is not inside
// a string, and that text without its quoted strings.
func splitLine(line string) (code, outside string) {
	var b strings.Builder
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#':
			return line[:i], b.String()
		default:
			b.WriteRune(r)
		}
	}
	return line, b.String()
}

// line returns the line of path, or of the closest enclosing table, or 0.
func (idx lineIndex) line(path string) int {
	for path != "" {
		if n, ok := idx[path]; ok {
			return n
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return 0
}
