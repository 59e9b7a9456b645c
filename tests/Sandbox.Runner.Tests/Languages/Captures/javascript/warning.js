const buf = new Buffer(4);
console.log(buf.length);
