fn main() {
    println!("leomodem");
}
