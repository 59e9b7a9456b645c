def divide(a, b)
  a / b
end

def main
  puts divide(1, 0)
end

main
