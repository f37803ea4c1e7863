//! Recursive-descent parser for Go templates (mirrors Go's `parse/parse.go`,
//! including its error texts: `template: <file>:<line>: <message>`).

use std::rc::Rc;

use super::ast::{Arg, Branch, Command, Node, Pipe};
use super::lex::{Item, Keyword, Tok, lex};
use super::number::parse_number;

/// One parsed template: a file's main body or a `define`/`block`.
#[derive(Debug)]
pub struct Tree {
    pub name: String,
    /// File the tree was parsed from (Go's `ParseName`), used in error locations.
    pub parse_name: Rc<str>,
    pub source: Rc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `ErrorContext` location: `file:line:col`, col a 0-based byte offset.
    pub fn location(&self, pos: usize) -> String {
        let before = &self.source[..pos.min(self.source.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    /// True when the body holds only whitespace text (Go's `IsEmptyTree`).
    pub fn is_empty(&self) -> bool {
        self.root
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    }
}

#[derive(Debug)]
pub struct ParseError(pub String);

struct Parser<'a> {
    items: Vec<Item>,
    idx: usize,
    parse_name: Rc<str>,
    source: Rc<str>,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    defined: Vec<Tree>,
    /// Start of the last token handed out; Go reports that token's line.
    last_pos: usize,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `source` as template `name` (read from file `parse_name`). Returns the
/// main tree first, followed by every `define`/`block` found.
pub fn parse(
    name: &str,
    parse_name: &str,
    source: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Vec<Tree>, ParseError> {
    let mut p = Parser {
        items: lex(source),
        idx: 0,
        parse_name: Rc::from(parse_name),
        source: Rc::from(source),
        vars: vec!["$".into()],
        range_depth: 0,
        has_func,
        defined: Vec::new(),
        last_pos: 0,
    };
    let root = p.parse_top()?;
    let mut trees = vec![Tree {
        name: name.to_string(),
        parse_name: p.parse_name.clone(),
        source: p.source.clone(),
        root,
    }];
    trees.append(&mut p.defined);
    Ok(trees)
}

enum ListEnd {
    End,
    Else,
}

fn describe(tok: &Tok) -> String {
    let q = |s: &str| {
        if s.chars().count() > 10 {
            let short: String = s.chars().take(10).collect();
            format!("{}...", crate::gofmt::quote(&short))
        } else {
            crate::gofmt::quote(s)
        }
    };
    match tok {
        Tok::Eof => "EOF".into(),
        Tok::Error(e) => e.clone(),
        Tok::Keyword(k) => format!("<{}>", format!("{k:?}").to_lowercase()),
        Tok::Text(s)
        | Tok::Identifier(s)
        | Tok::Field(s)
        | Tok::Variable(s)
        | Tok::Number(s)
        | Tok::Complex(s)
        | Tok::CharConst(s) => q(s),
        Tok::Str(raw, _) => q(raw),
        Tok::LeftDelim => q("{{"),
        Tok::RightDelim => q("}}"),
        Tok::Space => q(" "),
        Tok::Dot => q("."),
        Tok::Bool(b) => q(&b.to_string()),
        Tok::Nil => q("nil"),
        Tok::Pipe => q("|"),
        Tok::Assign => q("="),
        Tok::Declare => q(":="),
        Tok::Comma => q(","),
        Tok::LeftParen => q("("),
        Tok::RightParen => q(")"),
    }
}

impl Parser<'_> {
    fn errorf(&self, msg: impl Into<String>) -> ParseError {
        ParseError(format!(
            "template: {}:{}: {}",
            self.parse_name,
            1 + self.source[..self.last_pos.min(self.source.len())]
                .matches('\n')
                .count(),
            msg.into()
        ))
    }

    fn next(&mut self) -> Item {
        let item = self.items.get(self.idx).cloned().unwrap_or(Item {
            tok: Tok::Eof,
            pos: self.source.len(),
        });
        self.idx += 1;
        self.last_pos = item.pos;
        item
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn peek(&self) -> &Tok {
        self.items.get(self.idx).map_or(&Tok::Eof, |i| &i.tok)
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.tok != Tok::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    fn unexpected(&self, item: &Item, context: &str) -> ParseError {
        if let Tok::Error(e) = &item.tok {
            return self.errorf(e.clone());
        }
        self.errorf(format!("unexpected {} in {}", describe(&item.tok), context))
    }

    fn expect_right_delim(&mut self, context: &str) -> PResult<Item> {
        let item = self.next_non_space();
        if item.tok != Tok::RightDelim {
            return Err(self.unexpected(&item, context));
        }
        Ok(item)
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => return Ok(root),
                Tok::LeftDelim => {
                    let save = self.idx;
                    self.next();
                    if matches!(self.next_non_space().tok, Tok::Keyword(Keyword::Define)) {
                        self.parse_definition()?;
                        continue;
                    }
                    self.idx = save;
                }
                _ => {}
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
            }
        }
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let name_item = self.next_non_space();
        let Tok::Str(_, name) = name_item.tok.clone() else {
            return Err(self.unexpected(&name_item, context));
        };
        self.expect_right_delim(context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, ListEnd::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.defined.push(Tree {
            name,
            parse_name: self.parse_name.clone(),
            source: self.source.clone(),
            root: list,
        });
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, ListEnd)> {
        let mut list = Vec::new();
        loop {
            if self.peek_non_space().tok == Tok::Eof {
                return Err(self.errorf("unexpected EOF"));
            }
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                Parsed::End => return Ok((list, ListEnd::End)),
                Parsed::Else => return Ok((list, ListEnd::Else)),
            }
        }
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let item = self.next_non_space();
        match item.tok {
            Tok::Text(t) => Ok(Parsed::Node(Node::Text(t))),
            Tok::LeftDelim => self.action(),
            _ => Err(self.unexpected(&item, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let item = self.next_non_space();
        match item.tok {
            Tok::Keyword(Keyword::Block) => return self.block_control().map(Parsed::Node),
            Tok::Keyword(Keyword::Break) | Tok::Keyword(Keyword::Continue) => {
                let is_break = item.tok == Tok::Keyword(Keyword::Break);
                if self.range_depth == 0 {
                    let kw = if is_break { "break" } else { "continue" };
                    return Err(self.errorf(format!("{{{{{kw}}}}} outside {{{{range}}}}")));
                }
                self.expect_right_delim(if is_break {
                    "{{break}}"
                } else {
                    "{{continue}}"
                })?;
                return Ok(Parsed::Node(if is_break {
                    Node::Break { pos: item.pos }
                } else {
                    Node::Continue { pos: item.pos }
                }));
            }
            Tok::Keyword(Keyword::Else) => {
                let peek = self.peek_non_space();
                if matches!(
                    peek.tok,
                    Tok::Keyword(Keyword::If) | Tok::Keyword(Keyword::With)
                ) {
                    return Ok(Parsed::Else);
                }
                self.expect_right_delim("else")?;
                return Ok(Parsed::Else);
            }
            Tok::Keyword(Keyword::End) => {
                self.expect_right_delim("end")?;
                return Ok(Parsed::End);
            }
            Tok::Keyword(Keyword::If) => {
                return self.control("if").map(|b| Parsed::Node(Node::If(b)));
            }
            Tok::Keyword(Keyword::Range) => {
                return self.control("range").map(|b| Parsed::Node(Node::Range(b)));
            }
            Tok::Keyword(Keyword::With) => {
                return self.control("with").map(|b| Parsed::Node(Node::With(b)));
            }
            Tok::Keyword(Keyword::Template) => return self.template_control().map(Parsed::Node),
            _ => {}
        }
        self.backup();
        Ok(Parsed::Node(Node::Action(
            self.pipeline("command", &Tok::RightDelim)?,
        )))
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        let vars_len = self.vars.len();
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let ListEnd::Else = end {
            let next_kw = match self.peek() {
                Tok::Keyword(k) => Some(*k),
                _ => None,
            };
            if context == "if" && next_kw == Some(Keyword::If) {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && next_kw == Some(Keyword::With) {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (l, e) = self.item_list()?;
                if !matches!(e, ListEnd::End) {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(vars_len);
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, item: &Item, context: &str) -> PResult<String> {
        match &item.tok {
            Tok::Str(_, v) => Ok(v.clone()),
            _ => Err(self.unexpected(item, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, context)?;
        let pipe = if self.next_non_space().tok != Tok::RightDelim {
            self.backup();
            Some(self.pipeline(context, &Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, context)?;
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, ListEnd::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.defined.push(Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            source: self.source.clone(),
            root: list,
        });
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations: `$x :=`, `$x =`, `$i, $v :=` (range only).
        loop {
            let v = self.peek_non_space();
            let Tok::Variable(name) = v.tok.clone() else {
                break;
            };
            let save = self.idx;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.tok == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    break;
                }
                Tok::Comma => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    self.idx = save;
                    break;
                }
            }
        }
        loop {
            let item = self.next_non_space();
            if &item.tok == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match item.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Complex(_)
                | Tok::Nil
                | Tok::Str(..)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&item, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let mut cmd = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let item = self.next();
            match item.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&item, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if let Tok::Field(_) = self.peek() {
            let chain_pos = self.items[self.idx].pos;
            let mut fields = Vec::new();
            while let Tok::Field(f) = self.peek().clone() {
                self.next();
                fields.push(f[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { mut idents, .. } => {
                    idents.extend(fields);
                    Arg::Field {
                        pos: chain_pos,
                        idents,
                    }
                }
                Arg::Variable { mut idents, .. } => {
                    idents.extend(fields);
                    Arg::Variable {
                        pos: chain_pos,
                        idents,
                    }
                }
                Arg::Bool { .. }
                | Arg::String { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. } => {
                    return Err(self.errorf(format!(
                        "unexpected . after term {}",
                        crate::gofmt::quote(&node.to_string())
                    )));
                }
                other => Arg::Chain {
                    pos: chain_pos,
                    node: Box::new(other),
                    fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let item = self.next_non_space();
        let pos = item.pos;
        Ok(Some(match item.tok {
            Tok::Identifier(name) => {
                if !(self.has_func)(&name) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::gofmt::quote(&name)
                    )));
                }
                Arg::Identifier { pos, name }
            }
            Tok::Dot => Arg::Dot { pos },
            Tok::Nil => Arg::Nil { pos },
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(
                        self.errorf(format!("undefined variable {}", crate::gofmt::quote(&name)))
                    );
                }
                Arg::Variable {
                    pos,
                    idents: vec![name],
                }
            }
            Tok::Field(f) => Arg::Field {
                pos,
                idents: vec![f[1..].to_string()],
            },
            Tok::Bool(value) => Arg::Bool { pos, value },
            Tok::Number(text) | Tok::CharConst(text) => match parse_number(&text, false) {
                Ok(num) => Arg::Number { pos, num },
                Err(msg) => return Err(self.errorf(msg)),
            },
            Tok::Complex(text) => match parse_number(&text, true) {
                Ok(num) => Arg::Number { pos, num },
                Err(msg) => return Err(self.errorf(msg)),
            },
            Tok::LeftParen => Arg::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", &Tok::RightParen)?,
            )),
            Tok::Str(quoted, value) => Arg::String { pos, quoted, value },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

enum Parsed {
    Node(Node),
    End,
    Else,
}
