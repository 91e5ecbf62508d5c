use govcap_core::classify::jenks_breaks;
#[test]
fn stress() {
    let mut fails = 0; let mut n_cases = 0;
    for f in ["/tmp/stress_big.txt", "/tmp/stress_1.txt", "/tmp/stress_2.txt", "/tmp/stress_3.txt"] {
        let text = std::fs::read_to_string(f).unwrap();
        let mut values: Vec<f64> = vec![]; let mut kind = String::new();
        for line in text.lines() {
            let mut tok = line.split(' ');
            match tok.next() {
                Some("V") => { kind = tok.next().unwrap().into(); values = tok.map(|t| t.parse().unwrap()).collect(); }
                Some("B") => {
                    let k: usize = tok.next().unwrap().parse().unwrap();
                    let want: Vec<f64> = tok.map(|t| t.parse().unwrap()).collect();
                    let t = std::time::Instant::now();
                    let got = jenks_breaks(&values, k).unwrap();
                    if values.len() > 10000 { eprintln!("{kind} k {k}: {:?}", t.elapsed()); }
                    n_cases += 1;
                    if got.iter().map(|x| (x+0.0).to_bits()).collect::<Vec<_>>() != want.iter().map(|x| (x+0.0).to_bits()).collect::<Vec<_>>() {
                        fails += 1; eprintln!("{f} {kind} n {} k {k}: {got:?} vs {want:?}", values.len());
                    }
                }
                _ => {}
            }
        }
    }
    eprintln!("{n_cases} cases, {fails} failures");
    assert_eq!(fails, 0);
}
