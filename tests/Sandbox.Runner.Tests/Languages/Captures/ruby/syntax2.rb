def main
  puts "x"

main
