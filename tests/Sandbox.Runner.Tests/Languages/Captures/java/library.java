public class Main {
    public static void main(String[] args) {
        int n = Integer.parseInt("abc");
        System.out.println(n);
    }
}
