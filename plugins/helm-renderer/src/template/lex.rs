//! Lexer for Go `text/template` source, following Go's `parse/lex.go` closely
//! so that token positions (byte offsets) — and therefore the line:column in
//! error messages — are the ones Go reports.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    Identifier(String),
    /// `.name` (the text includes the dot).
    Field(String),
    /// `$` or `$name`.
    Variable(String),
    Dot,
    /// Quoted string: raw source text (with quotes) and the unquoted value.
    Str(String, String),
    CharConst(String),
    Number(String),
    /// `1+2i`: a number followed, with no space, by a signed imaginary part.
    Complex(String),
    Bool(bool),
    Nil,
    Pipe,
    Assign,
    Declare,
    Comma,
    LeftParen,
    RightParen,
    Keyword(Keyword),
    Eof,
    Error(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub tok: Tok,
    /// Byte offset of the token's first byte.
    pub pos: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    items: Vec<Item>,
    paren_depth: usize,
}

/// Tokenizes a whole template. Lexing stops at the first error, which is
/// returned as a final `Tok::Error` item (the parser reports it).
pub fn lex(src: &str) -> Vec<Item> {
    let mut lx = Lexer {
        src,
        pos: 0,
        items: Vec::new(),
        paren_depth: 0,
    };
    lx.run();
    lx.items
}

impl<'a> Lexer<'a> {
    fn emit(&mut self, tok: Tok, pos: usize) {
        self.items.push(Item { tok, pos });
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn run(&mut self) {
        loop {
            if !self.lex_text() {
                return;
            }
            if !self.lex_action() {
                return;
            }
        }
    }

    /// Emits text up to the next `{{`; returns false at EOF.
    fn lex_text(&mut self) -> bool {
        let start = self.pos;
        match self.rest().find(LEFT) {
            None => {
                if self.pos < self.src.len() {
                    self.emit(Tok::Text(self.rest().to_string()), start);
                }
                self.pos = self.src.len();
                self.emit(Tok::Eof, self.pos);
                false
            }
            Some(off) => {
                let delim = start + off;
                let after = &self.src[delim + LEFT.len()..];
                let trim = after.len() >= 2
                    && after.as_bytes()[0] == b'-'
                    && is_space(after.as_bytes()[1]);
                let mut text_end = delim;
                if trim {
                    while text_end > start && is_space(self.src.as_bytes()[text_end - 1]) {
                        text_end -= 1;
                    }
                }
                if text_end > start {
                    self.emit(Tok::Text(self.src[start..text_end].to_string()), start);
                }
                self.pos = delim + LEFT.len() + if trim { 2 } else { 0 };
                // Comments are dropped entirely (Helm does not parse with ParseComments).
                if self.rest().starts_with("/*") {
                    return self.lex_comment(delim);
                }
                self.emit(Tok::LeftDelim, delim);
                true
            }
        }
    }

    fn lex_comment(&mut self, delim_pos: usize) -> bool {
        let Some(end) = self.rest().find("*/") else {
            self.emit(Tok::Error("unclosed comment".into()), delim_pos);
            return false;
        };
        self.pos += end + 2;
        let (at, trim) = self.at_right_delim();
        if !at {
            self.emit(
                Tok::Error("comment ends before closing delimiter".into()),
                delim_pos,
            );
            return false;
        }
        self.pos += if trim { 2 } else { 0 } + RIGHT.len();
        if trim {
            self.skip_spaces();
        }
        // A comment action is not a text boundary: continue with text.
        self.lex_text_continue()
    }

    fn lex_text_continue(&mut self) -> bool {
        // After a comment the lexer is back in text mode; the caller loop expects
        // an action next, so lex the text and then hand over.
        if !self.lex_text() {
            return false;
        }
        true
    }

    fn skip_spaces(&mut self) {
        while self.pos < self.src.len() && is_space(self.src.as_bytes()[self.pos]) {
            self.pos += 1;
        }
    }

    /// Is the input at `}}` or ` -}}`? Returns (at delimiter, with trim marker).
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest().as_bytes();
        if r.len() >= 2 && is_space(r[0]) && r[1] == b'-' && self.rest()[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (self.rest().starts_with(RIGHT), false)
    }

    /// Lexes inside `{{ … }}`; returns false on error or EOF.
    fn lex_action(&mut self) -> bool {
        loop {
            let (at, trim) = self.at_right_delim();
            if at && self.paren_depth == 0 {
                let p = self.pos + if trim { 2 } else { 0 };
                self.emit(Tok::RightDelim, p);
                self.pos = p + RIGHT.len();
                if trim {
                    self.skip_spaces();
                }
                return true;
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                self.emit(Tok::Error("unclosed action".into()), start);
                return false;
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    let mut n = 0;
                    while self.pos < self.src.len() && is_space(self.src.as_bytes()[self.pos]) {
                        self.pos += 1;
                        n += 1;
                    }
                    // A space that starts " -}}" belongs to the delimiter.
                    let before = self.pos - 1;
                    let tail = &self.src[before..];
                    if tail.len() >= 2 && tail.as_bytes()[1] == b'-' && tail[2..].starts_with(RIGHT)
                    {
                        self.pos = before;
                        if n == 1 {
                            continue;
                        }
                    }
                    self.emit(Tok::Space, start);
                }
                '=' => {
                    self.pos += 1;
                    self.emit(Tok::Assign, start);
                }
                ':' => {
                    if self.rest().starts_with(":=") {
                        self.pos += 2;
                        self.emit(Tok::Declare, start);
                    } else {
                        self.emit(Tok::Error("expected :=".into()), start);
                        return false;
                    }
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Tok::Pipe, start);
                }
                ',' => {
                    self.pos += 1;
                    self.emit(Tok::Comma, start);
                }
                '"' => {
                    if !self.lex_quote(start) {
                        return false;
                    }
                }
                '`' => match self.rest()[1..].find('`') {
                    Some(end) => {
                        let raw = self.rest()[..end + 2].to_string();
                        let val = raw[1..raw.len() - 1].to_string();
                        self.pos += end + 2;
                        self.emit(Tok::Str(raw, val), start);
                    }
                    None => {
                        self.emit(Tok::Error("unterminated raw quoted string".into()), start);
                        return false;
                    }
                },
                '\'' => {
                    if !self.lex_char(start) {
                        return false;
                    }
                }
                '$' => {
                    self.pos += 1;
                    self.scan_alnum();
                    let name = self.src[start..self.pos].to_string();
                    self.emit(Tok::Variable(name), start);
                }
                '.' => {
                    let next = self.rest()[1..].chars().next();
                    if next.is_some_and(|n| n.is_ascii_digit()) {
                        if !self.lex_number(start) {
                            return false;
                        }
                    } else if next.is_some_and(is_alnum) {
                        self.pos += 1;
                        self.scan_alnum();
                        let name = self.src[start..self.pos].to_string();
                        self.emit(Tok::Field(name), start);
                    } else {
                        self.pos += 1;
                        self.emit(Tok::Dot, start);
                    }
                }
                '+' | '-' | '0'..='9' => {
                    if !self.lex_number(start) {
                        return false;
                    }
                }
                '(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.emit(Tok::LeftParen, start);
                }
                ')' => {
                    self.pos += 1;
                    if self.paren_depth == 0 {
                        self.emit(Tok::Error("unexpected right paren".into()), start);
                        return false;
                    }
                    self.paren_depth -= 1;
                    self.emit(Tok::RightParen, start);
                }
                c if is_alnum(c) => {
                    self.scan_alnum();
                    let word = &self.src[start..self.pos];
                    let tok = match word {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        "block" => Tok::Keyword(Keyword::Block),
                        "break" => Tok::Keyword(Keyword::Break),
                        "continue" => Tok::Keyword(Keyword::Continue),
                        "define" => Tok::Keyword(Keyword::Define),
                        "else" => Tok::Keyword(Keyword::Else),
                        "end" => Tok::Keyword(Keyword::End),
                        "if" => Tok::Keyword(Keyword::If),
                        "range" => Tok::Keyword(Keyword::Range),
                        "template" => Tok::Keyword(Keyword::Template),
                        "with" => Tok::Keyword(Keyword::With),
                        _ => Tok::Identifier(word.to_string()),
                    };
                    self.emit(tok, start);
                }
                other => {
                    self.emit(
                        Tok::Error(format!(
                            "unrecognized character in action: {}",
                            go_rune(other)
                        )),
                        start,
                    );
                    return false;
                }
            }
        }
    }

    fn scan_alnum(&mut self) {
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn lex_quote(&mut self, start: usize) -> bool {
        let bytes = self.src.as_bytes();
        let mut i = self.pos + 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') => {
                    self.emit(Tok::Error("unterminated quoted string".into()), start);
                    return false;
                }
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                _ => i += 1,
            }
        }
        let raw = self.src[start..=i].to_string();
        self.pos = i + 1;
        match unquote(&raw) {
            Some(val) => {
                self.emit(Tok::Str(raw, val), start);
                true
            }
            None => {
                self.emit(Tok::Error("invalid syntax".into()), start);
                false
            }
        }
    }

    fn lex_char(&mut self, start: usize) -> bool {
        let bytes = self.src.as_bytes();
        let mut i = self.pos + 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') => {
                    self.emit(Tok::Error("unterminated character constant".into()), start);
                    return false;
                }
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        self.emit(Tok::CharConst(self.src[start..self.pos].to_string()), start);
        true
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn lex_number(&mut self, start: usize) -> bool {
        if !self.scan_number() {
            return self.bad_number(start);
        }
        if self.peek().is_some_and(|c| c == '+' || c == '-') {
            if !self.scan_number() || !self.src[..self.pos].ends_with('i') {
                return self.bad_number(start);
            }
            let text = self.src[start..self.pos].to_string();
            self.emit(Tok::Complex(text), start);
            return true;
        }
        let text = self.src[start..self.pos].to_string();
        self.emit(Tok::Number(text), start);
        true
    }

    fn bad_number(&mut self, start: usize) -> bool {
        let text = self.src[start..self.pos].to_string();
        self.emit(
            Tok::Error(format!("bad number syntax: {}", crate::gofmt::quote(&text))),
            start,
        );
        false
    }

    /// Go's `scanNumber`: false when an alphanumeric follows (consumed into the error text).
    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.pos += self.peek().map_or(1, char::len_utf8);
            return false;
        }
        true
    }
}

/// Go's `%#U` rendering of a rune, used in lexer errors.
fn go_rune(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

/// Go's `strconv.Unquote` for double-quoted strings.
pub fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => return None,
            'x' => {
                let h: String = chars.by_ref().take(2).collect();
                out.push(char::from(u8::from_str_radix(&h, 16).ok()?));
            }
            'u' => {
                let h: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            'U' => {
                let h: String = chars.by_ref().take(8).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            d @ '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{d}{rest}"), 8).ok()?;
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}
