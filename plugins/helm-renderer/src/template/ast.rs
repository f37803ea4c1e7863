//! Parse tree of a Go template. Positions are byte offsets into the source
//! and follow Go's conventions (a field chain `.a.b` sits at `.b`), and the
//! `Display` impls reproduce Go's `Node.String()` used in error contexts.

use std::fmt;

#[derive(Debug)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

#[derive(Debug)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: usize,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// Declared variable names, including the `$`.
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// How a number literal can be used, as Go's `NumberNode` flags.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    /// A literal that fits uint64 but not int parses, then fails as an operand ("overflows int").
    pub uint: Option<u64>,
    pub float: Option<f64>,
    /// Imaginary and complex literals (`2i`, `1+2i`): complex128 as an operand.
    pub complex: Option<(f64, f64)>,
}

#[derive(Debug)]
pub enum Arg {
    /// `.a.b` — identifiers without dots.
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.a` — `idents[0]` is the variable name with `$`.
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipe).a.b`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        value: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    String {
        pos: usize,
        quoted: String,
        value: String,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => write!(f, "{}", idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                match &**node {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(p) => write!(f, "({p})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.is_assign { "=" } else { ":=" }
            )?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Go's `ListNode.String()`, needed when a whole control node is the error context.
pub fn list_string(list: &[Node]) -> String {
    list.iter().map(node_string).collect()
}

pub fn node_string(node: &Node) -> String {
    match node {
        Node::Text(t) => format!("{:?}", t),
        Node::Action(p) => format!("{{{{{p}}}}}"),
        Node::If(b) => branch_string("if", b),
        Node::Range(b) => branch_string("range", b),
        Node::With(b) => branch_string("with", b),
        Node::Template { name, pipe, .. } => match pipe {
            Some(p) => format!("{{{{template {:?} {p}}}}}", name),
            None => format!("{{{{template {:?}}}}}", name),
        },
        Node::Break { .. } => "{{break}}".into(),
        Node::Continue { .. } => "{{continue}}".into(),
    }
}

fn branch_string(kw: &str, b: &Branch) -> String {
    match &b.else_list {
        Some(e) => format!(
            "{{{{{kw} {}}}}}{}{{{{else}}}}{}{{{{end}}}}",
            b.pipe,
            list_string(&b.list),
            list_string(e)
        ),
        None => format!("{{{{{kw} {}}}}}{}{{{{end}}}}", b.pipe, list_string(&b.list)),
    }
}
