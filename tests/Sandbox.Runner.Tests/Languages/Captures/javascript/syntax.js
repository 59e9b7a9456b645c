function main() {
  const x = [1, 2, 3;
  console.log(x);
}
main();
