x1, y1, x2, y2 = gets.split.map(&:to_f)
printf("%.7f\n", Math.hypot(x2 - x1, y2 - y1))
