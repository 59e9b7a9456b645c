def main
  options = { size: 1, size: 2 }
  puts options[:size]
end
main
