use std::collections::{BTreeMap, BTreeSet};

/// Orders nodes so that every node comes after its dependencies (ties broken
/// by name, so the order is stable). Edges to unknown nodes are ignored.
/// On failure returns every cycle found, each as `a -> b -> a`.
pub(crate) fn dependency_order(
    graph: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, Vec<Vec<String>>> {
    let cycles = find_cycles(graph);
    if !cycles.is_empty() {
        return Err(cycles);
    }
    let mut order = Vec::with_capacity(graph.len());
    let mut done = BTreeSet::new();
    while order.len() < graph.len() {
        let ready: Vec<&String> = graph
            .iter()
            .filter(|(node, deps)| {
                !done.contains(*node)
                    && deps
                        .iter()
                        .all(|d| done.contains(d) || !graph.contains_key(d))
            })
            .map(|(node, _)| node)
            .collect();
        for node in ready {
            done.insert(node.clone());
            order.push(node.clone());
        }
    }
    Ok(order)
}

fn find_cycles(graph: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        cycles: &mut BTreeSet<Vec<String>>,
    ) {
        marks.insert(node.to_owned(), Mark::Visiting);
        stack.push(node.to_owned());
        for dep in graph.get(node).into_iter().flatten() {
            if !graph.contains_key(dep) {
                continue;
            }
            match marks.get(dep.as_str()) {
                Some(Mark::Visiting) => {
                    let start = stack.iter().position(|n| n == dep).unwrap_or(0);
                    let mut cycle: Vec<String> = stack[start..].to_vec();
                    // Rotate so the smallest name comes first: one cycle, one report.
                    let min = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| *n)
                        .map_or(0, |(i, _)| i);
                    cycle.rotate_left(min);
                    let first = cycle[0].clone();
                    cycle.push(first);
                    cycles.insert(cycle);
                }
                Some(Mark::Done) => {}
                None => visit(dep, graph, marks, stack, cycles),
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut cycles = BTreeSet::new();
    for node in graph.keys() {
        if !marks.contains_key(node) {
            visit(node, graph, &mut marks, &mut Vec::new(), &mut cycles);
        }
    }
    cycles.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn dependencies_come_first() {
        let g = graph(&[("c", &["b"]), ("b", &["a"]), ("a", &[]), ("d", &[])]);
        assert_eq!(dependency_order(&g).unwrap(), vec!["a", "d", "b", "c"]);
    }

    #[test]
    fn cycles_are_named() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["d"])]);
        let cycles = dependency_order(&g).unwrap_err();
        assert_eq!(cycles, vec![vec!["a", "b", "c", "a"], vec!["d", "d"]]);
    }
}
