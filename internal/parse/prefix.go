package parse

// servicePrefix reads the prefix that process runners put before each line of the
// processes they run, and returns the service's name and the line after it:
//
//	signer-1    | 2024-03-01 12:00:00,123 ERROR slot 0 not present     (docker compose logs)
//	12:00:00 web.1  | started with pid 4242                            (foreman, overmind)
//
// The name is a word of letters, digits, '.', '_' and '-' that starts with a letter (or,
// after foreman's clock, any such word), then blanks, "|" and a space.
func servicePrefix(line string) (name, rest string, ok bool) {
	i := 0
	if len(line) > 9 && isDigit(line[0]) && line[2] == ':' && line[5] == ':' && line[8] == ' ' {
		if _, _, _, _, k, ok := clockAt(line, 0); ok && k == 8 {
			i = skipSpaces(line, 8) // foreman's "12:00:00 web.1  | "
		}
	}
	j := i
	for j < len(line) && (isWordByte(line[j]) || line[j] == '.' || line[j] == '-') {
		j++
	}
	if j == i || j > i+64 || (i == 0 && !isLetter(line[0])) || j >= len(line) || !isSpace(line[j]) {
		return "", "", false
	}
	k := skipSpaces(line, j)
	if k+2 > len(line) || line[k] != '|' || line[k+1] != ' ' {
		return "", "", false
	}
	return line[i:j], line[k+2:], true
}
