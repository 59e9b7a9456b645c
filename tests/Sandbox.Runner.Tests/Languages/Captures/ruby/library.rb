require "json"

JSON.parse("{bad json")
