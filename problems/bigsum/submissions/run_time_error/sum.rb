# Reads one line too many: Integer(nil) raises a TypeError.
n = Integer(gets)
values = gets.split.map { |v| Integer(v) }
raise "expected #{n} values" unless values.length == n
puts values.sum + Integer(gets)
