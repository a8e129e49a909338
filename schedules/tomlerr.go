package schedules

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
)

// The TOML decoder speaks English to programmers ("expected value but found
// '“' instead", "incompatible types: TOML value has type int64…") and, for a
// type mismatch inside an array of tables, names the line of the last element
// rather than the one written wrong. Admins edit the file in the dashboard or
// a text editor, so what they see is said here again in Chinese, at the line
// they wrote.

// FileKind is what the advice on a TOML file calls the file and which of its
// sections it gives as examples: the schedule and the config speak alike.
type FileKind struct {
	// Noun names the file in sentences ("日程文件").
	Noun string
	// Sections are two of its section headers ("[calendar] 或 [[task]]").
	Sections string
}

var scheduleFile = FileKind{Noun: "日程文件", Sections: "[calendar] 或 [[task]]"}

// syntaxError turns the decoder's error on text that is not TOML into one
// Chinese sentence at its line; the decoder's own words are never shown.
func syntaxError(name, src string, err error, kind FileKind) Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return Error{File: name, Msg: "格式错误：" + kind.Noun + "无法读取，请检查英文引号、方括号和等号是否配对"}
	}
	line := pe.Position.Line
	if strings.Contains(pe.Message, `got '\n'`) && line > 1 {
		// The lexer stands on the next line when a line ends too early.
		line--
	}
	text := ""
	if lines := strings.Split(src, "\n"); line > 0 && line <= len(lines) {
		text = lines[line-1]
	}
	return Error{File: name, Line: line, Msg: "格式错误：" + syntaxAdvice(pe, text, kind)}
}

// fullWidth are the Chinese punctuation marks an IME slips into a line; TOML
// takes only their ASCII forms, and the decoder's complaint about them ("expected
// value but found '“'") does not say so.
const fullWidth = "“”‘’＝，：；［］｛｝（）"

func syntaxAdvice(pe toml.ParseError, line string, kind FileKind) string {
	if code := outsideStrings(line); strings.ContainsAny(code, fullWidth) {
		r := []rune(code[strings.IndexAny(code, fullWidth):])[0]
		return fmt.Sprintf("这一行用了中文标点 %c：引号、等号、逗号、方括号都要用英文半角，如 name = \"活动名称\"", r)
	}
	m := pe.Message
	// A value our own types refused (a duration written wrong) comes with
	// their Chinese reason: that says more than any advice on syntax.
	if strings.ContainsFunc(m, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		if key := pe.LastKey[strings.LastIndex(pe.LastKey, ".")+1:]; key != "" {
			return key + "：" + m
		}
		return m
	}
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("already been defined", "already created"):
		key := pe.LastKey
		if i := strings.LastIndex(key, "."); i >= 0 {
			key = key[i+1:]
		}
		if key == "" {
			return "有重复的设置项或节名：同一节里每项只写一次"
		}
		return fmt.Sprintf("设置项 %s 写了两次：同一节里每项只写一次", key)
	case has("newline", `'"'`, `"'"`, `'"""'`, `"'''"`):
		return "引号没有配对：文字放在同一行的一对英文双引号里，多行文字用三个双引号 \"\"\" 开头和结尾"
	case has("escape", `'\x'`, `'\u'`, `'\U'`):
		return "文字里的反斜杠 \\ 要写成两个 \\\\，或把文字改用单引号 '…' 括起来"
	case has("control character", "UTF-8"):
		return "这一行有看不见的控制字符或乱码：请删掉后重新输入"
	case has("expected value", "invalid", "number", "digit", "range", "float", "integer", "sign"):
		return "等号后面的值无法识别：文字、日期和时间都要用英文双引号括起来，如 start = \"2026-06-01\"；开关写 true 或 false"
	case has("']'", "table name", "table separator", "array terminator", "comma", "inline table", "'}'"):
		return "方括号或逗号不对：节名写成 " + kind.Sections + "，列表写成 [\"甲\", \"乙\"]，各项之间用英文逗号隔开"
	case has("'='", "'.'", "key"):
		return "这一行应写成「名称 = 值」：名称用英文，等号用英文半角 ="
	}
	return "这一行不符合" + kind.Noun + "的写法：检查英文引号、方括号和等号是否配对"
}

var (
	stringOrListType    = reflect.TypeFor[stringOrList]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkTypes compares the decoded file v with the shape t the schedule takes,
// before the decoder sees a mismatch: each wrong value is reported at the
// line of its own element of an array of tables (path "task[2].keywords").
// Keys t does not know are left to the check for unknown keys.
func (b *builder) checkTypes(t reflect.Type, v any, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	key := path
	if i := strings.LastIndexAny(key, ".]"); i >= 0 {
		key = key[i+1:]
	}
	wrong := func(want string) {
		b.at(path, "%s 应写成%s，这里写的是%s", key, want, describe(v))
	}
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		// Durations and the like are written as text ("1m").
		if _, ok := v.(string); !ok {
			wrong("带英文双引号的文字，如 " + key + " = \"1m\"")
		}
	case t == stringOrListType:
		if _, ok := v.(string); ok {
			return
		}
		if list, ok := v.([]any); ok && allStrings(list) {
			return
		}
		wrong("带英文双引号的日期时间，如 " + key + " = \"2026-06-09 18:00\"，或它们的列表 [\"…\", \"…\"]")
	case t.Kind() == reflect.String:
		if _, ok := v.(string); !ok {
			wrong("带英文双引号的文字，如 " + key + " = \"…\"")
		}
	case t.Kind() == reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong(" true 或 false（不加引号）")
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		if _, ok := v.(int64); !ok {
			wrong("不带引号的整数，如 " + key + " = 10")
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		_, isInt := v.(int64)
		if _, isFloat := v.(float64); !isInt && !isFloat {
			wrong("不带引号的数字，如 " + key + " = 20")
		}
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
		table, ok := v.(map[string]any)
		if !ok {
			wrong("一组「名称 = 文字」，如 " + key + ` = { "甲" = "乙" }`)
			return
		}
		for _, e := range table {
			if _, ok := e.(string); !ok {
				wrong("一组「名称 = 文字」，文字都带英文双引号，如 " + key + ` = { "甲" = "乙" }`)
				return
			}
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		if list, ok := v.([]any); !ok || !allStrings(list) {
			wrong("带英文双引号的文字组成的列表，如 " + key + " = [\"甲\", \"乙\"]")
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		tables, ok := v.([]map[string]any)
		if !ok {
			wrong("以 [[" + key + "]] 开头的一节")
			return
		}
		for i, table := range tables {
			b.checkTypes(t.Elem(), table, fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Struct:
		table, ok := v.(map[string]any)
		if !ok {
			wrong("以 [" + key + "] 开头的一节")
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("toml")
			value, ok := table[name]
			if name == "" || !ok {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			b.checkTypes(f.Type, value, name)
		}
	}
}

func allStrings(list []any) bool {
	for _, e := range list {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

// describe names a decoded TOML value the way an admin wrote it.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("文字 %q", v)
	case bool:
		return fmt.Sprintf(" %v", v)
	case int64, float64:
		return fmt.Sprintf("数字 %v（没有加引号）", v)
	case time.Time:
		return "没有加引号的日期或时间"
	case []any:
		for _, e := range v {
			if _, ok := e.(string); !ok {
				return fmt.Sprintf("列表，其中的 %v 没有加引号", e)
			}
		}
		return "列表"
	case map[string]any, []map[string]any:
		return "一节设置"
	}
	return "别的写法"
}
