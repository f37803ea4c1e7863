//! Executes parsed templates with Go `text/template` semantics as Helm
//! configures them (`missingkey=zero`), producing Go's error texts.
//!
//! Go distinguishes an *invalid* value (untyped nil, e.g. a pipeline result)
//! from a nil `interface{}` read out of a map: a field access on the latter
//! fails with `nil pointer evaluating interface {}.x`, on the former it
//! silently yields nothing. Values carry that distinction as [`Tv`].

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use super::ast::{Arg, Branch, Command, Node, Pipe, list_string, node_string};
use super::parse::{ParseError, Tree, parse};
use crate::funcs::{self, FuncDef, Param};
use crate::gofmt;
use crate::value::{Named, Object, Value};

/// A value plus "was read as `interface{}` out of a map/slice" (see module docs).
#[derive(Clone, Debug)]
struct Tv {
    v: Value,
    iface: bool,
}

impl Tv {
    fn plain(v: Value) -> Tv {
        Tv { v, iface: false }
    }
    fn iface(v: Value) -> Tv {
        Tv { v, iface: true }
    }
}

/// An execution error as Go's `errors.Unwrap` chain of messages; `chain[0]` is `Error()`.
#[derive(Debug, Clone)]
pub struct ExecError {
    pub chain: Vec<String>,
}

impl ExecError {
    pub fn message(&self) -> &str {
        &self.chain[0]
    }
}

/// Bounds that keep hostile charts from running away.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nested `include` calls of one template name (Helm: 1000).
    pub max_include_per_name: u32,
    /// Nested template/include/tpl executions overall (protects the native stack).
    pub max_depth: u32,
    /// Total `range` iterations per render.
    pub max_range_iterations: u64,
    /// Total bytes of template output per render.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_include_per_name: 1000,
            max_depth: 1100,
            max_range_iterations: 2_000_000,
            max_output_bytes: 32 << 20,
        }
    }
}

/// Every template known to one render: file bodies and `define`s.
#[derive(Clone, Default)]
pub struct TemplateSet {
    trees: HashMap<String, Rc<Tree>>,
}

impl TemplateSet {
    /// Parses a file and adds its body (named `name`) and its defines. As in Go,
    /// a later non-empty definition replaces an earlier one.
    pub fn add_file(&mut self, name: &str, source: &str) -> Result<(), ParseError> {
        let trees = parse(name, name, source, &|f| funcs::exists(f))?;
        for tree in trees {
            self.add_tree(tree);
        }
        Ok(())
    }

    fn add_tree(&mut self, tree: Tree) {
        self.add_shared(Rc::new(tree));
    }

    fn add_shared(&mut self, tree: Rc<Tree>) {
        if tree.is_empty() && self.trees.contains_key(&tree.name) {
            return;
        }
        self.trees.insert(tree.name.clone(), tree);
    }

    pub fn get(&self, name: &str) -> Option<Rc<Tree>> {
        self.trees.get(name).cloned()
    }
}

/// Shared, per-render counters.
#[derive(Default)]
pub struct Budget {
    range_iterations: Cell<u64>,
    output_bytes: Cell<usize>,
    includes: std::cell::RefCell<HashMap<String, u32>>,
}

/// What one render shares across all template executions.
pub struct ExecEnv<'a> {
    pub limits: Limits,
    pub budget: &'a Budget,
}

enum Flow {
    Err(ExecError),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

/// Where an error happened, for Go's `file:line:col` and `<context>`.
#[derive(Clone, Copy)]
enum At<'n> {
    Arg(&'n Arg),
    Cmd(&'n Command),
    Range(&'n Branch),
    Template(&'n Node),
}

/// The node Go's `state.at` last saw while evaluating a range pipeline:
/// a function call's last argument, otherwise the command's first word.
fn last_node(b: &Branch) -> At<'_> {
    match b.pipe.cmds.last() {
        Some(cmd) => match cmd.args.as_slice() {
            [Arg::Identifier { .. }, .., last] => At::Arg(last),
            [first, ..] => At::Arg(first),
            [] => At::Range(b),
        },
        None => At::Range(b),
    }
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Arg(a) => a.pos(),
            At::Cmd(c) => c.pos,
            At::Range(b) => b.pos,
            At::Template(Node::Template { pos, .. }) => *pos,
            At::Template(_) => 0,
        }
    }
    fn context(&self) -> String {
        match self {
            At::Arg(a) => a.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Range(b) => {
                let body = list_string(&b.list);
                match &b.else_list {
                    Some(e) => format!(
                        "{{{{range {}}}}}{}{{{{else}}}}{}{{{{end}}}}",
                        b.pipe,
                        body,
                        list_string(e)
                    ),
                    None => format!("{{{{range {}}}}}{}{{{{end}}}}", b.pipe, body),
                }
            }
            At::Template(n) => node_string(n),
        }
    }
}

struct State<'s> {
    set: &'s TemplateSet,
    env: &'s ExecEnv<'s>,
    tree: Rc<Tree>,
    vars: Vec<(String, Tv)>,
    depth: u32,
}

/// Executes template `name` with `data` as dot (Go's `ExecuteTemplate`).
pub fn execute(
    set: &TemplateSet,
    env: &ExecEnv,
    name: &str,
    data: Value,
) -> Result<String, ExecError> {
    execute_at_depth(set, env, name, data, 0)
}

fn execute_at_depth(
    set: &TemplateSet,
    env: &ExecEnv,
    name: &str,
    data: Value,
    depth: u32,
) -> Result<String, ExecError> {
    let Some(tree) = set.get(name) else {
        let msg = format!(
            "template: no template {} associated with template \"gotpl\"",
            gofmt::quote(name)
        );
        return Err(ExecError { chain: vec![msg] });
    };
    execute_tree(set, env, tree, data, depth)
}

/// Runs `tree` itself, which need not be the tree `set` holds under its name: Go keeps an
/// existing template when an empty one of the same name is added, yet `tpl` executes the
/// template it just parsed.
fn execute_tree(
    set: &TemplateSet,
    env: &ExecEnv,
    tree: Rc<Tree>,
    data: Value,
    depth: u32,
) -> Result<String, ExecError> {
    let dot = Tv::plain(data);
    let mut state = State {
        set,
        env,
        tree: tree.clone(),
        vars: vec![("$".into(), dot.clone())],
        depth,
    };
    let mut out = String::new();
    match state.walk_list(&dot, &tree.root, &mut out) {
        Ok(()) => Ok(out),
        Err(Flow::Err(e)) => Err(e),
        Err(_) => Ok(out),
    }
}

impl<'s> State<'s> {
    fn error_at(&self, at: At, msg: String, wrapped: Option<&ExecError>) -> Flow {
        let location = self.tree.location(at.pos());
        let full = format!(
            "template: {location}: executing {} at <{}>: {msg}{}",
            gofmt::quote(&self.tree.name),
            at.context(),
            wrapped.map_or("", |w| w.message())
        );
        let mut chain = vec![full.clone(), full];
        if let Some(w) = wrapped {
            chain.extend(w.chain.iter().cloned());
        }
        Flow::Err(ExecError { chain })
    }

    fn errorf(&self, at: At, msg: impl Into<String>) -> Flow {
        self.error_at(at, msg.into(), None)
    }

    fn write(&self, out: &mut String, s: &str) -> R<()> {
        let total = self.env.budget.output_bytes.get() + s.len();
        if total > self.env.limits.max_output_bytes {
            let msg = format!(
                "rendered output exceeds the limit of {} bytes",
                self.env.limits.max_output_bytes
            );
            return Err(Flow::Err(ExecError { chain: vec![msg] }));
        }
        self.env.budget.output_bytes.set(total);
        out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Tv, list: &[Node], out: &mut String) -> R<()> {
        for node in list {
            self.walk(dot, node, out)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Tv, node: &Node, out: &mut String) -> R<()> {
        match node {
            Node::Text(t) => self.write(out, t),
            Node::Action(pipe) => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let text = match &val.v {
                        Value::Nil => "<no value>".to_string(),
                        v => v.to_go_string(),
                    };
                    self.write(out, &text)?;
                }
                Ok(())
            }
            Node::If(b) | Node::With(b) => {
                let mark = self.vars.len();
                let val = self.eval_pipeline(dot, &b.pipe)?;
                let result = if val.v.is_true() {
                    if matches!(node, Node::With(_)) {
                        self.walk_list(&val, &b.list, out)
                    } else {
                        self.walk_list(dot, &b.list, out)
                    }
                } else if let Some(e) = &b.else_list {
                    self.walk_list(dot, e, out)
                } else {
                    Ok(())
                };
                self.vars.truncate(mark);
                result
            }
            Node::Range(b) => {
                let mark = self.vars.len();
                let result = self.walk_range(dot, b, out);
                self.vars.truncate(mark);
                result
            }
            Node::Template { name, pipe, .. } => {
                let Some(tree) = self.set.get(name) else {
                    return Err(self.errorf(
                        At::Template(node),
                        format!("template {} not defined", gofmt::quote(name)),
                    ));
                };
                if self.depth >= self.env.limits.max_depth {
                    return Err(self.errorf(
                        At::Template(node),
                        format!(
                            "exceeded maximum template depth ({})",
                            self.env.limits.max_depth
                        ),
                    ));
                }
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Tv::plain(Value::Nil),
                };
                let mut sub = State {
                    set: self.set,
                    env: self.env,
                    tree: tree.clone(),
                    vars: vec![("$".into(), new_dot.clone())],
                    depth: self.depth + 1,
                };
                match sub.walk_list(&new_dot, &tree.root, out) {
                    Err(Flow::Err(e)) => Err(Flow::Err(e)),
                    _ => Ok(()),
                }
            }
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
        }
    }

    fn count_iteration(&self, b: &Branch) -> R<()> {
        let n = self.env.budget.range_iterations.get() + 1;
        if n > self.env.limits.max_range_iterations {
            return Err(self.errorf(
                At::Range(b),
                format!(
                    "range iterations exceed the limit of {}",
                    self.env.limits.max_range_iterations
                ),
            ));
        }
        self.env.budget.range_iterations.set(n);
        Ok(())
    }

    fn walk_range(&mut self, dot: &Tv, b: &Branch, out: &mut String) -> R<()> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let items: Vec<(Tv, Tv)> = match &val.v {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, e)| (Tv::plain(Value::Int(i as i64)), Tv::iface(e.clone())))
                .collect(),
            Value::Map(m) => m
                .borrow()
                .iter()
                .map(|(k, e)| (Tv::plain(Value::str(k)), Tv::iface(e.clone())))
                .collect(),
            Value::StringMap(m) => m
                .iter()
                .map(|(k, e)| (Tv::plain(Value::str(k)), Tv::plain(e.clone())))
                .collect(),
            Value::Int(n) | Value::Int64(n) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(
                        At::Range(b),
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                (0..(*n).max(0))
                    // Go yields the range expression's own integer type.
                    .map(|i| match &val.v {
                        Value::Int64(_) => Value::Int64(i),
                        _ => Value::Int(i),
                    })
                    .map(|i| (Tv::plain(Value::Nil), Tv::plain(i)))
                    .collect()
            }
            Value::Nil => Vec::new(),
            Value::Object(o) => match &**o {
                Object::VersionSet(v) => v
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (Tv::plain(Value::Int(i as i64)), Tv::plain(Value::str(s))))
                    .collect(),
                Object::Files(f) => f
                    .iter()
                    .map(|(k, d)| {
                        (
                            Tv::plain(Value::str(k)),
                            Tv::plain(Value::list(
                                d.iter().map(|x| Value::Int(*x as i64)).collect(),
                            )),
                        )
                    })
                    .collect(),
                Object::KubeVersion { .. } | Object::Time(_) => {
                    return Err(self.errorf(
                        last_node(b),
                        format!("range can't iterate over {}", val.v.to_go_string()),
                    ));
                }
            },
            other => {
                return Err(self.errorf(
                    last_node(b),
                    format!("range can't iterate over {}", other.to_go_string()),
                ));
            }
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                return self.walk_list(dot, e, out);
            }
            return Ok(());
        }
        for (index, elem) in items {
            self.count_iteration(b)?;
            if !b.pipe.decl.is_empty() {
                if b.pipe.is_assign {
                    if b.pipe.decl.len() > 1 {
                        self.set_var(&b.pipe.decl[0], index.clone());
                    } else {
                        self.set_var(&b.pipe.decl[0], elem.clone());
                    }
                } else {
                    let n = self.vars.len();
                    self.vars[n - 1].1 = elem.clone();
                }
            }
            if b.pipe.decl.len() > 1 {
                if b.pipe.is_assign {
                    self.set_var(&b.pipe.decl[1], elem.clone());
                } else {
                    let n = self.vars.len();
                    self.vars[n - 2].1 = index.clone();
                }
            }
            let result = self.walk_list(&elem, &b.list, out);
            self.vars.truncate(mark);
            match result {
                Ok(()) | Err(Flow::Continue) => {}
                Err(Flow::Break) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn set_var(&mut self, name: &str, v: Tv) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn var_value(&self, name: &str) -> Tv {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(Tv::plain(Value::Nil), |(_, v)| v.clone())
    }

    fn eval_pipeline(&mut self, dot: &Tv, pipe: &Pipe) -> R<Tv> {
        let mut value: Option<Tv> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // Go unwraps interface values between pipeline stages.
            value = Some(Tv::plain(v.v));
        }
        let value = value.unwrap_or(Tv::plain(Value::Nil));
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone());
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, final_: &Option<Tv>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            return Err(self.errorf(
                At::Arg(&cmd.args[0]),
                format!("can't give argument to non-function {}", cmd.args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Tv, cmd: &Command, final_: Option<Tv>) -> R<Tv> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args[1..], final_)
            }
            Arg::Chain { node, fields, .. } => {
                if matches!(**node, Arg::Nil { .. }) {
                    return Err(self.errorf(
                        At::Arg(first),
                        format!("indirection through explicit nil in {first}"),
                    ));
                }
                let recv = self.eval_arg(dot, Param::Any, node)?;
                self.eval_field_chain(dot, Tv::plain(recv), first, fields, &cmd.args[1..], final_)
            }
            Arg::Identifier { name, .. } => {
                self.eval_function(dot, name, cmd, &cmd.args[1..], final_)
            }
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Variable { idents, .. } => {
                let value = self.var_value(&idents[0]);
                if idents.len() == 1 {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(value);
                }
                self.eval_field_chain(dot, value, first, &idents[1..], &cmd.args[1..], final_)
            }
            Arg::Bool { value, .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(Tv::plain(Value::Bool(*value)))
            }
            Arg::Dot { .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(dot.clone())
            }
            Arg::Nil { .. } => {
                self.not_a_function(cmd, &final_)?;
                Err(self.errorf(At::Arg(first), "nil is not a command"))
            }
            Arg::Number { num, .. } => {
                self.not_a_function(cmd, &final_)?;
                self.ideal_constant(first, num).map(Tv::plain)
            }
            Arg::String { value, .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(Tv::plain(Value::str(value)))
            }
        }
    }

    fn ideal_constant(&self, at: &Arg, num: &super::ast::Number) -> R<Value> {
        if let Some((re, im)) = num.complex {
            return Ok(Value::Complex(re, im));
        }
        let t = num.text.to_ascii_lowercase();
        let unsigned = t.trim_start_matches(['+', '-']);
        // `0x1e3` is a hex integer, `0x1p3` a hex float.
        let hex_int = unsigned.starts_with("0x") && !t.contains('p');
        if num.float.is_some() && !hex_int && !t.starts_with('\'') && t.contains(['.', 'e', 'p']) {
            return Ok(Value::Float(num.float.unwrap_or(0.0)));
        }
        match num.int {
            Some(i) => Ok(Value::Int(i)),
            None => Err(self.errorf(At::Arg(at), format!("{} overflows int", num.text))),
        }
    }

    fn eval_field_chain(
        &mut self,
        dot: &Tv,
        receiver: Tv,
        node: &Arg,
        idents: &[String],
        args: &[Arg],
        final_: Option<Tv>,
    ) -> R<Tv> {
        let mut recv = receiver;
        let n = idents.len();
        for ident in &idents[..n - 1] {
            recv = self.eval_field(dot, ident, node, &[], None, recv)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, recv)
    }

    fn eval_field(
        &mut self,
        dot: &Tv,
        field: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<Tv>,
        recv: Tv,
    ) -> R<Tv> {
        let type_name = if recv.iface {
            "interface {}"
        } else {
            recv.v.go_type()
        };
        let has_args = !args.is_empty() || final_.is_some();
        match &recv.v {
            Value::Nil => {
                if recv.iface {
                    return Err(self.errorf(
                        At::Arg(node),
                        format!("nil pointer evaluating interface {{}}.{field}"),
                    ));
                }
                Ok(Tv::plain(Value::Nil))
            }
            Value::Map(_) | Value::StringMap(_) => {
                if has_args {
                    return Err(self.errorf(
                        At::Arg(node),
                        format!("{field} is not a method but has arguments"),
                    ));
                }
                let is_iface = matches!(recv.v, Value::Map(_));
                let v = recv.v.map_get(field).unwrap_or_default();
                Ok(Tv { v, iface: is_iface })
            }
            Value::Object(o) => {
                let o = o.clone();
                self.eval_object_member(dot, &o, field, node, args, final_, type_name)
            }
            _ => Err(self.errorf(
                At::Arg(node),
                format!("can't evaluate field {field} in type {type_name}"),
            )),
        }
    }

    /// Fields and methods of Helm's struct-typed objects.
    #[allow(clippy::too_many_arguments)]
    fn eval_object_member(
        &mut self,
        dot: &Tv,
        o: &Rc<Object>,
        field: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<Tv>,
        type_name: &str,
    ) -> R<Tv> {
        let method = crate::files::object_method(o, field);
        if let Some(def) = method {
            // Methods receive their receiver as the first argument.
            let mut argv = vec![Value::Object(o.clone())];
            argv.extend(self.eval_args(dot, field, &def, node, args, final_)?);
            return match (def.f)(&argv) {
                Ok(v) => Ok(Tv::plain(v)),
                Err(e) => Err(self.error_at(
                    At::Arg(node),
                    format!("error calling {field}: "),
                    Some(&ExecError { chain: vec![e] }),
                )),
            };
        }
        let has_args = !args.is_empty() || final_.is_some();
        if let Some(v) = crate::files::object_field(o, field) {
            if has_args {
                return Err(self.errorf(
                    At::Arg(node),
                    format!("{field} has arguments but cannot be invoked as function"),
                ));
            }
            return Ok(Tv::plain(v));
        }
        // `.Files` is a Go map: a missing name with arguments is a map-key call.
        if has_args && matches!(**o, Object::Files(_)) {
            return Err(self.errorf(
                At::Arg(node),
                format!("{field} is not a method but has arguments"),
            ));
        }
        Err(self.errorf(
            At::Arg(node),
            format!("can't evaluate field {field} in type {type_name}"),
        ))
    }

    fn eval_function(
        &mut self,
        dot: &Tv,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Tv>,
    ) -> R<Tv> {
        let at_ident = At::Arg(&cmd.args[0]);
        match name {
            "and" | "or" => {
                if args.is_empty() && final_.is_none() {
                    return Err(self.errorf(
                        at_ident,
                        format!("wrong number of args for {name}: want at least 1 got 0"),
                    ));
                }
                let mut v = Value::Nil;
                for a in args {
                    v = self.eval_arg(dot, Param::Any, a)?;
                    if v.is_true() == (name == "or") {
                        return Ok(Tv::plain(v));
                    }
                }
                if let Some(f) = final_ {
                    v = f.v;
                }
                return Ok(Tv::plain(v));
            }
            "include" => return self.call_include(dot, cmd, args, final_),
            "tpl" => return self.call_tpl(dot, cmd, args, final_),
            _ => {}
        }
        let Some(def) = funcs::lookup(name) else {
            return Err(self.errorf(
                at_ident,
                format!("{} is not a defined function", gofmt::quote(name)),
            ));
        };
        let argv = self.eval_args(dot, name, &def, &cmd.args[0], args, final_)?;
        match (def.f)(&argv) {
            Ok(v) => Ok(Tv::plain(v)),
            // Go wraps the function's error (`%w`), so Helm's trace falls back to the flat text.
            Err(e) => Err(self.error_at(
                At::Cmd(cmd),
                format!("error calling {name}: "),
                Some(&ExecError { chain: vec![e] }),
            )),
        }
    }

    /// Go's `evalCall` argument handling: arity, then per-parameter conversion.
    fn eval_args(
        &mut self,
        dot: &Tv,
        name: &str,
        def: &FuncDef,
        ident: &Arg,
        args: &[Arg],
        final_: Option<Tv>,
    ) -> R<Vec<Value>> {
        let num_in = args.len() + usize::from(final_.is_some());
        let fixed = def.params.len();
        match def.variadic {
            Some(_) if num_in < fixed => {
                return Err(self.errorf(
                    At::Arg(ident),
                    format!(
                        "wrong number of args for {name}: want at least {fixed} got {}",
                        args.len()
                    ),
                ));
            }
            None if num_in != fixed => {
                return Err(self.errorf(
                    At::Arg(ident),
                    format!("wrong number of args for {name}: want {fixed} got {num_in}"),
                ));
            }
            _ => {}
        }
        let param_at = |i: usize| {
            if i < fixed {
                def.params[i]
            } else {
                def.variadic.unwrap_or(Param::Any)
            }
        };
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param_at(i), a)?);
        }
        if let Some(f) = final_ {
            // Go reports a bad piped value at the last node it visited.
            let at = args.last().map_or(At::Arg(ident), At::Arg);
            argv.push(self.validate_type(at, f, param_at(num_in - 1), true)?);
        }
        Ok(argv)
    }

    /// Go's `validateType`: `invalid` marks a pipeline result (untyped nil).
    fn validate_type(&self, at: At, tv: Tv, p: Param, invalid_nil: bool) -> R<Value> {
        let ok = match (&tv.v, p) {
            (_, Param::Any) => true,
            // Go accepts an untyped nil for a map or slice parameter, but not a nil that has
            // the static type interface{} (a missing key read through a field).
            (Value::Nil, Param::List | Param::Map) if invalid_nil || !tv.iface => true,
            (Value::Nil, _) => {
                let expected = p.go_type();
                return Err(if invalid_nil || !tv.iface {
                    self.errorf(at, format!("invalid value; expected {expected}"))
                } else {
                    self.errorf(
                        at,
                        format!("wrong type for value; expected {expected}; got interface {{}}"),
                    )
                });
            }
            (Value::Map(m), Param::Map) => m.named().is_map(),
            (Value::Map(m), Param::Cert) => m.named() == Named::Certificate,
            (v, Param::Time) => v.as_time().is_some(),
            // Go's []string is not assignable to []interface {}.
            (Value::List(l), Param::List) => !l.is_strings(),
            (Value::String(_), Param::Str)
            | (Value::Int(_), Param::Int)
            | (Value::Float(_), Param::Float)
            | (Value::Bool(_), Param::Bool) => true,
            _ => false,
        };
        if ok {
            // Go converts the argument to the parameter's type: `set .Values …` returns a plain map.
            Ok(match p {
                Param::Map => tv.v.converted(Named::Plain),
                _ => tv.v,
            })
        } else {
            Err(self.errorf(
                at,
                format!(
                    "wrong type for value; expected {}; got {}",
                    p.go_type(),
                    tv.v.go_type()
                ),
            ))
        }
    }

    fn eval_arg(&mut self, dot: &Tv, p: Param, arg: &Arg) -> R<Value> {
        let at = At::Arg(arg);
        match arg {
            Arg::Dot { .. } => return self.validate_type(at, dot.clone(), p, false),
            Arg::Nil { .. } => {
                return match p {
                    Param::Any | Param::List | Param::Map => Ok(Value::Nil),
                    _ => Err(self.errorf(at, format!("cannot assign nil to {}", p.go_type()))),
                };
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_chain(dot, dot.clone(), arg, idents, &[], None)?;
                return self.validate_type(at, v, p, false);
            }
            Arg::Variable { idents, .. } => {
                let value = self.var_value(&idents[0]);
                let v = if idents.len() == 1 {
                    value
                } else {
                    self.eval_field_chain(dot, value, arg, &idents[1..], &[], None)?
                };
                return self.validate_type(at, v, p, false);
            }
            Arg::Pipe(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                return self.validate_type(at, v, p, true);
            }
            Arg::Identifier { name, .. } => {
                let cmd = Command {
                    pos: arg.pos(),
                    args: Vec::new(),
                };
                let v = self.eval_function_bare(dot, name, arg, &cmd)?;
                return self.validate_type(at, v, p, false);
            }
            Arg::Chain { node, fields, .. } => {
                if matches!(**node, Arg::Nil { .. }) {
                    return Err(
                        self.errorf(at, format!("indirection through explicit nil in {arg}"))
                    );
                }
                let recv = self.eval_arg(dot, Param::Any, node)?;
                let v = self.eval_field_chain(dot, Tv::plain(recv), arg, fields, &[], None)?;
                return self.validate_type(at, v, p, false);
            }
            _ => {}
        }
        match (p, arg) {
            (Param::Str, Arg::String { value, .. }) => Ok(Value::str(value)),
            (Param::Str, _) => Err(self.errorf(at, format!("expected string; found {arg}"))),
            (Param::Int, Arg::Number { num, .. }) if num.int.is_some() => {
                Ok(Value::Int(num.int.unwrap_or(0)))
            }
            (Param::Int, _) => Err(self.errorf(at, format!("expected integer; found {arg}"))),
            // Go's SetUint keeps the low bits of a too-large literal.
            (Param::Uint32, Arg::Number { num, .. }) if num.int.is_some_and(|i| i >= 0) => {
                Ok(Value::Int(i64::from(num.int.unwrap_or(0) as u32)))
            }
            (Param::Uint32, _) => {
                Err(self.errorf(at, format!("expected unsigned integer; found {arg}")))
            }
            (Param::Float, Arg::Number { num, .. })
                if num.float.is_some() && !num.text.starts_with('\'') =>
            {
                Ok(Value::Float(num.float.unwrap_or(0.0)))
            }
            (Param::Float, _) => Err(self.errorf(at, format!("expected float; found {arg}"))),
            (Param::Bool, Arg::Bool { value, .. }) => Ok(Value::Bool(*value)),
            (Param::Bool, _) => Err(self.errorf(at, format!("expected bool; found {arg}"))),
            (Param::Any, Arg::Bool { value, .. }) => Ok(Value::Bool(*value)),
            (Param::Any, Arg::String { value, .. }) => Ok(Value::str(value)),
            (Param::Any, Arg::Number { num, .. }) => self.ideal_constant(arg, num),
            _ => Err(self.errorf(
                at,
                format!("can't handle {arg} for arg of type {}", p.go_type()),
            )),
        }
    }

    /// A function name used as an argument (`{{ f g }}` calls `g` with no args).
    fn eval_function_bare(&mut self, dot: &Tv, name: &str, ident: &Arg, _cmd: &Command) -> R<Tv> {
        let cmd = Command {
            pos: ident.pos(),
            args: vec![Arg::Identifier {
                pos: ident.pos(),
                name: name.to_string(),
            }],
        };
        let r = self.eval_function(dot, name, &cmd, &[], None);
        r.map(|v| Tv::iface(v.v))
    }

    fn string_args(
        &mut self,
        dot: &Tv,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Tv>,
    ) -> R<(String, Value)> {
        let def = FuncDef {
            params: &[Param::Str, Param::Any],
            variadic: None,
            f: |_| Ok(Value::Nil),
        };
        let argv = self.eval_args(dot, name, &def, &cmd.args[0], args, final_)?;
        let first = argv[0].as_str().unwrap_or_default().to_string();
        Ok((first, argv[1].clone()))
    }

    /// Helm's `include`: run a named template into a string, per-name nesting capped.
    fn call_include(&mut self, dot: &Tv, cmd: &Command, args: &[Arg], final_: Option<Tv>) -> R<Tv> {
        let (name, data) = self.string_args(dot, "include", cmd, args, final_)?;
        let count = {
            let mut inc = self.env.budget.includes.borrow_mut();
            let c = inc.entry(name.clone()).or_insert(0);
            *c += 1;
            *c
        };
        let result = if count > self.env.limits.max_include_per_name + 1
            || self.depth >= self.env.limits.max_depth
        {
            let msg = format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            );
            let inner = ExecError {
                chain: vec![msg, "unable to execute template".into()],
            };
            Err(inner)
        } else {
            execute_at_depth(self.set, self.env, &name, data, self.depth + 1)
        };
        if let Some(c) = self.env.budget.includes.borrow_mut().get_mut(&name) {
            *c -= 1;
        }
        match result {
            Ok(s) => Ok(Tv::plain(Value::string(s))),
            Err(e) => Err(self.error_at(At::Cmd(cmd), "error calling include: ".into(), Some(&e))),
        }
    }

    /// Helm's `tpl`: parse a string against a copy of the template set and run it.
    fn call_tpl(&mut self, dot: &Tv, cmd: &Command, args: &[Arg], final_: Option<Tv>) -> R<Tv> {
        let (text, data) = self.string_args(dot, "tpl", cmd, args, final_)?;
        let mut set = self.set.clone();
        let parsed = parse("gotpl", "gotpl", &text, &|f| funcs::exists(f));
        let trees = match parsed {
            Ok(t) => t,
            Err(ParseError(msg)) => {
                let inner = ExecError {
                    chain: vec![format!(
                        "cannot parse template {}: {msg}",
                        gofmt::quote(&text)
                    )],
                };
                return Err(self.error_at(
                    At::Cmd(cmd),
                    "error calling tpl: ".into(),
                    Some(&inner),
                ));
            }
        };
        let mut body = None;
        for t in trees {
            if t.name == "gotpl" {
                let t = Rc::new(t);
                set.add_shared(t.clone());
                body = Some(t);
            } else {
                set.add_tree(t);
            }
        }
        if self.depth >= self.env.limits.max_depth {
            let inner = ExecError {
                chain: vec![format!(
                    "exceeded maximum template depth ({})",
                    self.env.limits.max_depth
                )],
            };
            return Err(self.error_at(At::Cmd(cmd), "error calling tpl: ".into(), Some(&inner)));
        }
        let result = match body {
            Some(tree) => execute_tree(&set, self.env, tree, data, self.depth + 1),
            None => execute_at_depth(&set, self.env, "gotpl", data, self.depth + 1),
        };
        match result {
            Ok(s) => Ok(Tv::plain(Value::string(s.replace("<no value>", "")))),
            Err(e) => {
                let msg = format!(
                    "error during tpl function execution for {}: {}",
                    gofmt::quote(&text),
                    e.message()
                );
                let mut chain = vec![msg];
                chain.extend(e.chain);
                Err(self.error_at(
                    At::Cmd(cmd),
                    "error calling tpl: ".into(),
                    Some(&ExecError { chain }),
                ))
            }
        }
    }
}
