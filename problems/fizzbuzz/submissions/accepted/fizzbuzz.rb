n = gets.to_i
puts (1..n).map { |i| i % 15 == 0 ? 'FizzBuzz' : i % 3 == 0 ? 'Fizz' : i % 5 == 0 ? 'Buzz' : i.to_s }
