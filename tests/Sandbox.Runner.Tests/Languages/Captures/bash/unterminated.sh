echo "start
echo end
