fn main() {
    let unused = 5;
    let mut v = 1;
    println!("{}", 2);
}
