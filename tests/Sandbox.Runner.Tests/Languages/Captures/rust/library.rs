fn main() {
    let s = String::from("héllo");
    println!("{}", &s[0..2]);
}
