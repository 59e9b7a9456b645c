#include <cstdio>
#include <unordered_map>
#include <vector>

int main() {
    int n;
    long long target;
    if (std::scanf("%d %lld", &n, &target) != 2) return 1;
    std::vector<long long> a(n);
    for (auto &v : a) std::scanf("%lld", &v);
    std::unordered_map<long long, int> seen;
    for (int j = 0; j < n; j++) {
        auto it = seen.find(target - a[j]);
        if (it != seen.end()) {
            std::printf("%d %d\n", j + 1, it->second + 1);  // reversed order: still a valid pair
            return 0;
        }
        seen.emplace(a[j], j);
    }
    return 0;
}
