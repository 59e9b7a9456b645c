const data = JSON.parse("{bad json");
console.log(data);
