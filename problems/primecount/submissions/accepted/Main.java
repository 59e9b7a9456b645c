import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        int n = new Scanner(System.in).nextInt();
        boolean[] composite = new boolean[n + 2];
        int count = 0;
        for (long i = 2; i <= n; i++) {
            if (composite[(int) i]) continue;
            count++;
            for (long j = i * i; j <= n; j += i) composite[(int) j] = true;
        }
        System.out.println(count);
    }
}
