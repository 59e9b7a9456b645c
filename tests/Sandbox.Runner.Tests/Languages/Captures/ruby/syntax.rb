def main
  x = [1, 2, 3
  puts x
end
main
