//! `govcap framework check|show`.

use std::path::PathBuf;

use clap::Subcommand;
use govcap_core::framework::{Framework, Rule, Scale};
use govcap_core::vocab::{self, Tongue};

use crate::evaluation::{builtin_framework, load_framework, Input};
use crate::LangArg;

#[derive(Subcommand, Debug)]
pub enum FrameworkCommand {
    /// Validate a framework file and list every problem with its line.
    Check { file: PathBuf },
    /// Print the indicator tree with points (default: the built-in framework).
    Show {
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LangArg::Zh)]
        lang: LangArg,
    },
}

pub fn run(c: FrameworkCommand) -> anyhow::Result<()> {
    match c {
        FrameworkCommand::Check { file } => {
            let input = Input::read("framework", &file)?;
            let fw = load_framework(&input)?;
            let leaves = fw.leaves().len();
            println!(
                "{}: valid — {} {} ({} nodes, {} leaf indicators, depth {}, {})",
                file.display(),
                fw.id,
                fw.version,
                fw.nodes.len(),
                leaves,
                fw.max_depth(),
                match fw.scale {
                    Scale::Points => format!("{} points", fw.total),
                    Scale::Weights => "weights".into(),
                }
            );
            Ok(())
        }
        FrameworkCommand::Show { file, lang } => {
            let input = match file {
                Some(f) => Input::read("framework", &f)?,
                None => builtin_framework(),
            };
            let fw = load_framework(&input)?;
            print!("{}", render_tree(&fw, lang));
            Ok(())
        }
    }
}

/// The tree as indented text with points (or effective weights) and, for leaves, the rule.
pub fn render_tree(fw: &Framework, lang: LangArg) -> String {
    let zh = lang == LangArg::Zh;
    let mut s = format!(
        "{} ({} {}){}\n",
        if zh { &fw.name_zh } else { &fw.name_en },
        fw.id,
        fw.version,
        match fw.scale {
            Scale::Points => format!(" — {} {}", fw.total, if zh { "分" } else { "points" }),
            Scale::Weights => String::new(),
        }
    );
    for i in fw.tree_order() {
        let n = fw.node(i);
        let indent = "  ".repeat(fw.depth(i));
        let amount = match fw.scale {
            Scale::Points => format!("{}", n.weight),
            Scale::Weights => format!("w={} ({:.2}%)", n.weight, fw.effective_weight(i) * 100.0),
        };
        let leaf = n
            .leaf
            .as_ref()
            .map(|l| {
                let t = if zh { Tongue::Zh } else { Tongue::En };
                let rule = match &l.rule {
                    Rule::Count { cap } => format!("{} ≤ {cap}", vocab::rule("count", t)),
                    r => vocab::rule(r.name(), t),
                };
                let mut text = format!("  [{rule}, {}]", vocab::collection(l.collection, t));
                // A graded leaf's levels: what an evaluator may write in a cell (the key, the
                // number, or either label) and what each level earns.
                if let Rule::Graded { levels } = &l.rule {
                    for (k, lv) in levels.iter().enumerate() {
                        text.push_str(&format!(
                            "\n{indent}    {k} = {} / {} / {}  ({:.0}%)",
                            lv.key,
                            lv.zh,
                            lv.en,
                            lv.fraction * 100.0
                        ));
                    }
                }
                text
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "{indent}{} {}  {amount}{leaf}\n",
            n.id,
            if zh { &n.name_zh } else { &n.name_en }
        ));
    }
    s
}
