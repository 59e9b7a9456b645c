def greet(name)
  puts "Hello, #{nme}"
end

greet("world")
