function greet(person) {
  return "Hello, " + person.name.toUpperCase();
}

console.log(greet({}));
