//! An example under every command's `--help` (and so in its man page and
//! `docs/cli-reference.md`), kept here in one table. A test parses each one, so none can
//! drift from the grammar.

/// Command path (without `stockyard`) → example command lines.
pub const EXAMPLES: &[(&str, &[&str])] = &[
    ("init", &["stockyard init --admin ops@example.com", "stockyard --db postgres://app@db.internal/stock init"]),
    ("demo", &["stockyard demo --products 10000"]),
    ("product add", &["stockyard product add --sku MUG-01 --name \"Enamel mug\" --price 12.50 --attr colour=blue"]),
    ("product list", &["stockyard product list --search mug --max-price 20", "stockyard product list --format csv"]),
    ("product show", &["stockyard product show MUG-01 --format json"]),
    ("product update", &["stockyard product update MUG-01 --price 13.00 --if-version 2"]),
    ("product delete", &["stockyard product delete MUG-01"]),
    ("category add", &["stockyard category add Kitchen", "stockyard category add Mugs --parent Kitchen"]),
    ("category list", &["stockyard category list"]),
    ("warehouse add", &["stockyard warehouse add EAST --name \"East depot\""]),
    ("warehouse list", &["stockyard warehouse list"]),
    ("stock show", &["stockyard stock show --low", "stockyard stock show MUG-01 --at 2h --format json"]),
    ("stock receive", &["stockyard stock receive MUG-01 48 --warehouse EAST --reason PO-1042"]),
    ("stock adjust", &["stockyard stock adjust MUG-01 --by -2 --reason \"broken in aisle 4\""]),
    ("stock transfer", &["stockyard stock transfer MUG-01 10 --from MAIN --to EAST"]),
    ("stock count", &["stockyard stock count MUG-01 37 --warehouse EAST"]),
    ("stock threshold", &["stockyard stock threshold MUG-01 --reorder-point 10 --reorder-qty 48"]),
    ("stock history", &["stockyard stock history MUG-01 --warehouse MAIN"]),
    ("stock reorder", &["stockyard stock reorder --format csv"]),
    ("events tail", &["stockyard events tail --follow --type OrderCreated --format json"]),
    ("events replay", &["stockyard events replay"]),
    (
        "verify",
        &[
            "stockyard verify",
            "stockyard verify --anchor 5120:3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
        ],
    ),
    ("reserve", &["stockyard reserve MUG-01:2 TEE-M:1 --ttl 30m --ref cart-88"]),
    ("release", &["stockyard release 0193a5c2-7e41-7c3a-9d2e-5b1f0c4d8a77"]),
    (
        "order create",
        &[
            "stockyard order create --customer ana@example.com --name \"Ana Ruiz\" --line MUG-01:2 --line TEE-M:1",
            "stockyard order create --customer ana@example.com --line MUG-01:2 --dry-run",
        ],
    ),
    ("order list", &["stockyard order list --status paid"]),
    ("order show", &["stockyard order show 1042 --explain"]),
    ("order update", &["stockyard order update 1042 --address \"4 Quay St, Leith\""]),
    ("order pay", &["stockyard order pay 1042 --amount 25.00 --ref txn_81f3"]),
    ("order status", &["stockyard order status 1042 shipped --tracking 1Z999AA10123456784"]),
    ("order pick", &["stockyard order pick 1042 MUG-01:2"]),
    ("order cancel", &["stockyard order cancel 1042 --reason \"customer asked\""]),
    (
        "order return",
        &[
            "stockyard order return 1042 --line MUG-01:1 --line TEE-M:1:scrap",
            "stockyard order return 1042 --request --line MUG-01:1",
        ],
    ),
    ("order refund", &["stockyard order refund 1042 --amount 12.50"]),
    ("sweep", &["stockyard sweep"]),
    ("user add", &["stockyard user add sam@example.com --role warehouse --warehouse EAST"]),
    ("user list", &["stockyard user list"]),
    ("user show", &["stockyard user show sam@example.com"]),
    ("user role", &["stockyard user role sam@example.com manager"]),
    ("user disable", &["stockyard user disable sam@example.com"]),
    ("user enable", &["stockyard user enable sam@example.com"]),
    ("user scope", &["stockyard user scope sam@example.com --warehouse EAST --warehouse MAIN"]),
    ("user password", &["printf '%s\\n' \"$PASSWORD\" | stockyard user password sam@example.com --password-stdin"]),
    ("user explain", &["stockyard user explain sam@example.com stock.adjust --warehouse MAIN"]),
    ("user prefs", &["stockyard user prefs sam@example.com --event InventoryThresholdReached --channel email=off"]),
    ("token create", &["stockyard token create --name shop-frontend --role client --expires 30d"]),
    ("token list", &["stockyard token list"]),
    ("token revoke", &["stockyard token revoke shop-frontend"]),
    ("notify templates", &["stockyard notify templates"]),
    ("notify template set", &["stockyard notify template set order_shipped --channel email --body-file shipped.txt"]),
    ("notify template preview", &["stockyard notify template preview order_shipped --channel email"]),
    ("notify send", &["stockyard notify send --to ana@example.com --template order_shipped --var order_number=1042"]),
    ("notify list", &["stockyard notify list --status failed"]),
    ("notify status", &["stockyard notify status 0193a5c2-7e41-7c3a-9d2e-5b1f0c4d8a77"]),
    ("notify endpoints", &["stockyard notify endpoints"]),
    ("notify run", &["stockyard notify run --once"]),
    ("relay nats", &["stockyard relay nats --url nats://127.0.0.1:4222 --stream STOCKYARD"]),
    ("webhook add", &["stockyard webhook add https://shop.example.com/hooks --events OrderCreated,OrderFulfilled"]),
    ("webhook list", &["stockyard webhook list"]),
    ("webhook remove", &["stockyard webhook remove 0193a5c2-7e41-7c3a-9d2e-5b1f0c4d8a77"]),
    ("inbox", &["stockyard --as sam@example.com inbox --unread"]),
    ("inbox read", &["stockyard --as sam@example.com inbox read 0193a5c2-7e41-7c3a-9d2e-5b1f0c4d8a77"]),
    ("audit list", &["stockyard audit list --entity product"]),
    ("audit verify", &["stockyard audit verify"]),
    ("audit head", &["stockyard audit head --format json"]),
    ("key rotate", &["stockyard key rotate", "stockyard key rotate --new-key-file new.key"]),
    ("import", &["stockyard import products products.csv --dry-run", "stockyard import stock counts.csv"]),
    ("export", &["stockyard export products --out products.csv", "stockyard export orders --format json"]),
    ("serve", &["stockyard serve --bind 0.0.0.0:8080 --rate-limit 200"]),
    ("tui", &["stockyard --as sam@example.com tui"]),
    ("completions", &["stockyard completions bash > /etc/bash_completion.d/stockyard"]),
    ("openapi", &["stockyard openapi --out docs/openapi.json"]),
    ("man", &["stockyard man --out /usr/local/share/man/man1", "stockyard man --markdown --out docs/cli-reference.md"]),
];

/// The grammar with every command's examples under its help.
pub fn command() -> clap::Command {
    with_examples(<super::Cli as clap::CommandFactory>::command(), "")
}

fn with_examples(mut command: clap::Command, path: &str) -> clap::Command {
    if let Some((_, lines)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        let mut help = command.get_after_help().map(|h| format!("{h}\n\n")).unwrap_or_default();
        help.push_str(if lines.len() == 1 { "Example:" } else { "Examples:" });
        for line in *lines {
            help.push_str("\n  ");
            help.push_str(line);
        }
        command = command.after_help(help);
    }
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    for name in names {
        let sub_path = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
        command = command.mut_subcommand(&name, |sub| with_examples(sub, &sub_path));
    }
    command
}

/// Every command, depth first, with its path (`stock receive`).
pub fn walk(command: &clap::Command) -> Vec<(String, &clap::Command)> {
    fn visit<'c>(command: &'c clap::Command, path: &str, into: &mut Vec<(String, &'c clap::Command)>) {
        into.push((path.to_owned(), command));
        for sub in command.get_subcommands() {
            let sub_path =
                if path.is_empty() { sub.get_name().to_owned() } else { format!("{path} {}", sub.get_name()) };
            visit(sub, &sub_path, into);
        }
    }
    let mut all = Vec::new();
    visit(command, "", &mut all);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits an example like a shell would, for the cases the table uses: double quotes,
    /// and a pipe or redirection ending the `stockyard` part.
    fn words(line: &str) -> Vec<String> {
        let line = line.rsplit_once("| ").map_or(line, |(_, after)| after);
        let line = line.split_once(" >").map_or(line, |(before, _)| before);
        let mut words = vec![String::new()];
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => words.push(String::new()),
                c => words.last_mut().expect("one word at least").push(c),
            }
        }
        words
    }

    #[test]
    fn every_runnable_command_has_an_example_and_every_example_parses() {
        let command = command();
        let runnable: Vec<String> = walk(&command)
            .into_iter()
            .filter(|(path, c)| !path.is_empty() && (!c.has_subcommands() || !c.is_subcommand_required_set()))
            .map(|(path, _)| path)
            .collect();
        for path in &runnable {
            assert!(EXAMPLES.iter().any(|(p, _)| p == path), "`stockyard {path}` has no example in EXAMPLES");
        }
        for (path, lines) in EXAMPLES {
            assert!(runnable.contains(&(*path).to_owned()), "EXAMPLES names `{path}`, which is not a command");
            for line in *lines {
                let words = words(line);
                assert!(words.iter().filter(|w| !w.starts_with('-')).collect::<Vec<_>>().len() > 1);
                let parsed = command.clone().try_get_matches_from(&words);
                assert!(
                    parsed.is_ok(),
                    "example {line:?} does not parse: {}",
                    parsed.err().map(|e| e.to_string()).unwrap_or_default()
                );
                let mut found = parsed.expect("checked");
                for word in path.split(' ') {
                    let (name, sub) = found.remove_subcommand().expect("the example runs its own command");
                    assert_eq!(name, word, "example {line:?} is listed under `{path}`");
                    found = sub;
                }
                assert!(found.subcommand().is_none(), "example {line:?} runs a deeper command than `{path}`");
            }
        }
    }
}
